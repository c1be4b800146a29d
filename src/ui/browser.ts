import type { SignedInUser } from '../auth/config.ts';
import { hashSecret, newSecret, safeEqual } from '../auth/secrets.ts';
import type { Ephemeral } from '../store/types.ts';

/**
 * The browser a page talks to: one random id in a `__Host-` cookie (SECURITY 23), used to bind
 * CSRF tokens (SECURITY 22) and, with the built-in email sign-in, the signed-in user. The id is
 * stored only as a hash in Ephemeral, so a leaked Ephemeral dump signs nobody in.
 */
export const BROWSER_COOKIE = '__Host-gw_browser';
const BROWSER_TTL_MS = 12 * 3600_000;
const CSRF_TTL_MS = 30 * 60_000;

export function cookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookie(name: string, value: string, maxAgeMs: number): string {
  return `${name}=${value}; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; Secure; HttpOnly; SameSite=Lax`;
}

export interface Browser {
  /** Hash of the browser id: what CSRF tokens and sign-ins are bound to. */
  readonly key: string;
  /** Set-Cookie values to send with the answer (a new browser id). */
  readonly cookies: string[];
}

export class Browsers {
  constructor(private readonly ephemeral: () => Promise<Ephemeral>) {}

  /** The browser of this request; a new id (and cookie) when it has none. */
  of(request: Request): Browser {
    const id = cookieValue(request, BROWSER_COOKIE);
    if (id && /^gwb_[\w-]{43}$/.test(id)) return { key: hashSecret(id), cookies: [] };
    const fresh = newSecret('session');
    return { key: fresh.hash, cookies: [setCookie(BROWSER_COOKIE, fresh.secret, BROWSER_TTL_MS)] };
  }

  /** Built-in sign-in: who this browser signed in as, if anyone. */
  async user(browser: Browser): Promise<SignedInUser | null> {
    if (browser.cookies.length) return null;
    const raw = await (await this.ephemeral()).get(`ui:user:${browser.key}`);
    return raw ? (JSON.parse(raw) as SignedInUser) : null;
  }

  async signIn(browser: Browser, user: SignedInUser): Promise<void> {
    await (await this.ephemeral()).set(`ui:user:${browser.key}`, JSON.stringify(user), BROWSER_TTL_MS);
  }

  async signOut(browser: Browser): Promise<void> {
    await (await this.ephemeral()).delete(`ui:user:${browser.key}`);
  }

  /** A single-use CSRF token for one form, bound to this browser and to `purpose`. */
  async csrf(browser: Browser, purpose: string): Promise<string> {
    const t = newSecret('csrf');
    await (await this.ephemeral()).set(`ui:csrf:${t.hash}`, `${browser.key} ${purpose}`, CSRF_TTL_MS);
    return t.secret;
  }

  /** Consumes the token: true only once, for the browser and purpose it was made for. */
  async checkCsrf(browser: Browser, purpose: string, token: string | null): Promise<boolean> {
    if (!token || token.length > 100 || browser.cookies.length) return false;
    const bound = await (await this.ephemeral()).consume(`ui:csrf:${hashSecret(token)}`);
    return bound !== undefined && safeEqual(bound, `${browser.key} ${purpose}`);
  }
}

import type { Gangway } from '../../src/index.ts';

/**
 * A browser stand-in for in-process page tests: keeps cookies the way a browser would (by name,
 * dropping expired ones), sends forms urlencoded, never follows redirects (tests read Location).
 */
export class Agent {
  readonly jar = new Map<string, string>();
  /** Every Set-Cookie value this agent was sent. */
  readonly setCookies: string[] = [];

  constructor(
    private readonly app: Gangway,
    readonly origin = 'http://localhost',
  ) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.send('GET', path, undefined, headers);
  }

  async post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Page> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.send('POST', path, body.toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  private async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Page> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.fetch(
      new Request(new URL(path, this.origin), { method, body, headers: { ...(cookie ? { cookie } : {}), ...headers }, redirect: 'manual' }),
    );
    for (const c of res.headers.getSetCookie()) {
      this.setCookies.push(c);
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (/;\s*max-age=0\b/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(eq + 1).trim());
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') };
  }

  /** Signs in through the built-in email form; returns the page the 303 leads to. */
  async signIn(email: string, returnTo?: string): Promise<Page> {
    const form = await this.get(`/signin${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
    const res = await this.post('/signin', { csrf: csrfOf(form), email, ...(returnTo ? { return_to: returnTo } : {}) });
    if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
    return res;
  }
}

export interface Page {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

export function csrfOf(page: Page): string {
  const m = /name="csrf" value="([^"]+)"/.exec(page.text);
  if (!m) throw new Error(`no CSRF token on the page (${page.status}): ${page.text.slice(0, 300)}`);
  return m[1]!;
}

/** The secret on a "created" page. */
export function secretOf(page: Page): string {
  const m = /<code id="secret">([^<]+)<\/code>/.exec(page.text);
  if (!m) throw new Error(`no secret on the page (${page.status})`);
  return m[1]!;
}

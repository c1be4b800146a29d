/**
 * The HTML shell every Gangway page uses (sign-in, consent, errors, API tokens). Pages work
 * without JavaScript and load nothing from elsewhere. SECURITY 21 (escape everything shown),
 * 23 (no framing).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export const esc = (value: unknown): string => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}label{display:block;margin:.4rem 0}input[type=text],input[type=email],input[type=number],select{width:100%;padding:.4rem;box-sizing:border-box}
button{padding:.5rem 1rem;margin:.5rem .5rem 0 0}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}
.muted{color:#666;font-size:.9rem}.warn{background:#fff4e5;border:1px solid #f0c36d;padding:.5rem}.error{background:#fdecea;border:1px solid #e57373;padding:.5rem}
code{background:#f3f3f3;padding:.1rem .3rem;word-break:break-all}`;

export interface PageOptions {
  status?: number;
  headers?: Record<string, string>;
  /** Extra origins a form on this page may submit to (a redirect after the POST counts: Chromium checks form-action on it). */
  formTargets?: string[];
}

/** Security headers for every HTML answer. */
function pageHeaders(formTargets: string[] = []): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** `body` is trusted markup built with `esc` for every value. */
export function htmlPage(title: string, body: string, options: PageOptions = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
  const headers = new Headers(pageHeaders(options.formTargets));
  for (const [k, v] of Object.entries(options.headers ?? {})) headers.append(k, v);
  return new Response(html, { status: options.status ?? 200, headers });
}

/** An error page: never a redirect (SECURITY 18). */
export function errorPage(status: number, title: string, message: string): Response {
  return htmlPage(title, `<h1>${esc(title)}</h1><p class="error">${esc(message)}</p>`, { status });
}

/** 303 after a form POST (SECURITY 25), with optional cookies. */
export function seeOther(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const c of cookies) headers.append('set-cookie', c);
  return new Response(null, { status: 303, headers });
}

/** The request's media type without parameters, lower case (`application/json`), or undefined. */
export function mediaType(request: Request): string | undefined {
  return request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
}

/** Reads an application/x-www-form-urlencoded body (bounded); null when it is not one. */
export async function readForm(request: Request, maxBytes = 16 * 1024): Promise<URLSearchParams | null> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') return null;
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) return null;
  return new URLSearchParams(text);
}

import { esc, htmlPage } from './html.ts';

/**
 * The consent page (SECURITY 21): who asks (client name, or its id when it gave none), where the
 * browser will be sent (the redirect host, and the host of its metadata document), a warning
 * when the client can only redirect to this machine, and each requested scope with its
 * description and a checkbox (checked by default). Everything shown is escaped: names and hosts
 * come from strangers (CVE-2025-58444). Works without JavaScript.
 */
export interface ConsentView {
  serverName: string;
  /** Who is signed in (name or subject). */
  userName: string;
  clientName: string | null;
  clientId: string;
  /** `registered` (RFC 7591: the name is self-asserted) or `document` (Client ID Metadata Document). */
  clientKind: 'registered' | 'document';
  documentHost: string | null;
  redirectUri: string;
  /** Every redirect URI of the client is on loopback: only an app on this machine gets the code. */
  localhostOnly: boolean;
  scopes: { name: string; description: string }[];
  /** Form fields: the pending request's handle and the CSRF token. */
  handle: string;
  csrf: string;
  action: string;
  /** Set-Cookie values to send (a new browser id). */
  cookies: string[];
}

export function consentPage(v: ConsentView): Response {
  const redirect = new URL(v.redirectUri);
  const who = v.clientName ?? v.clientId;
  const scopes = v.scopes.length
    ? `<fieldset><legend>It asks to:</legend>${v.scopes
        .map(
          (s) =>
            `<label><input type="checkbox" name="scope" value="${esc(s.name)}" checked> <code>${esc(s.name)}</code>${
              s.description ? ` &mdash; ${esc(s.description)}` : ''
            }</label>`,
        )
        .join('')}</fieldset>`
    : '<p>It asks for no specific permission.</p>';
  const origin =
    v.clientKind === 'document'
      ? `<p class="muted">Identified by its metadata document at <code>${esc(v.documentHost)}</code>.</p>`
      : `<p class="muted">This application registered itself: the name above is its own claim. Check where it sends you.</p>`;
  const warning = v.localhostOnly
    ? `<p class="warn">This application returns to <code>${esc(redirect.host)}</code>, a program on your own computer. Approve only if you just started it yourself.</p>`
    : '';
  const body = `<h1>Allow ${esc(who)} to use ${esc(v.serverName)}?</h1>
<p>Signed in as <strong>${esc(v.userName)}</strong>.</p>
<p><strong>${esc(who)}</strong> will be sent back to <code>${esc(redirect.host)}</code>.</p>
${origin}${warning}
<form method="post" action="${esc(v.action)}">
<input type="hidden" name="request" value="${esc(v.handle)}">
<input type="hidden" name="csrf" value="${esc(v.csrf)}">
${scopes}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`;
  // Chromium applies form-action to the redirect after the POST: allow the client's origin.
  const res = htmlPage(`Authorize ${who}`, body, { formTargets: [redirect.origin] });
  for (const c of v.cookies) res.headers.append('set-cookie', c);
  return res;
}

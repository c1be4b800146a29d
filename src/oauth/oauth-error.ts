import { json } from '../auth/web-routes.ts';
import { parseStrictJson } from '../transport/strict-json.ts';
import { mediaType, readForm } from '../ui/html.ts';

/**
 * OAuth error codes Gangway answers with: RFC 6749 4.1.2.1 / 5.2, RFC 7591 3.2.2, RFC 7009 2.2.1,
 * RFC 8707 2 (`invalid_target`).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'server_error';

/**
 * An OAuth protocol error: the one type oauth/ throws for a bad request, mapped to the wire in one
 * place (`oauthErrorResponse` for JSON endpoints, `errorRedirect` for /authorize). Descriptions
 * never contain a secret: they name parameters, never their values.
 */
export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    /** HTTP status on the JSON endpoints (RFC 6749 5.2: 400, or 401 for invalid_client). */
    readonly status = code === 'invalid_client' ? 401 : 400,
    /** RFC 6749 5.2: a client that authenticated with the Authorization header gets a matching challenge. */
    readonly challenge?: string,
  ) {
    super(`${code}: ${description}`);
  }
}

/** RFC 6749 5.2: `{error, error_description}`, no-store (5.1 applies to errors as much). */
export function oauthErrorResponse(err: OAuthError, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { pragma: 'no-cache', ...extra };
  if (err.challenge) headers['www-authenticate'] = err.challenge;
  return json(err.status, { error: err.code, error_description: err.description }, headers);
}

/** Runs a JSON endpoint: an OAuthError becomes its RFC 6749 5.2 answer; anything else propagates (500). */
export async function answerOAuth(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OAuthError) return oauthErrorResponse(err);
    throw err;
  }
}

/**
 * One value of a form or query parameter. RFC 6749 3.1 / 3.2: parameters MUST NOT be included more
 * than once; an empty value counts as absent (3.1: "parameters sent without a value MUST be
 * treated as if they were omitted").
 */
export function param(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new OAuthError('invalid_request', `the ${name} parameter is repeated`);
  return all[0] === '' ? undefined : all[0];
}

export function requiredParam(params: URLSearchParams, name: string): string {
  const v = param(params, name);
  if (v === undefined) throw new OAuthError('invalid_request', `the ${name} parameter is required`);
  return v;
}

const MAX_BODY = 16 * 1024;
const BODY_RULE = 'the body must be application/x-www-form-urlencoded, or a JSON object of string values (at most 16 KiB)';

/**
 * The parameters of a POST to /token or /revoke, bounded. RFC 6749 3.2 says
 * application/x-www-form-urlencoded, and every OAuth library sends that; some providers document
 * a JSON body instead (seed 002's token exchange), so a flat JSON object of strings is read the
 * same way, through the strict parser (a repeated key is refused, as a repeated form field is).
 */
export async function formBody(request: Request): Promise<URLSearchParams> {
  if (request.method !== 'POST') throw new OAuthError('invalid_request', 'use POST', 405);
  let form: URLSearchParams | null;
  try {
    form = mediaType(request) === 'application/json' ? await jsonParams(request) : await readForm(request, MAX_BODY);
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    form = null; // an aborted or unreadable body
  }
  if (!form) throw new OAuthError('invalid_request', BODY_RULE);
  return form;
}

async function jsonParams(request: Request): Promise<URLSearchParams | null> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY) return null;
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (err) {
    throw new OAuthError('invalid_request', `the JSON body is not valid: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OAuthError('invalid_request', BODY_RULE);
  const params = new URLSearchParams();
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new OAuthError('invalid_request', `the ${name.slice(0, 64)} parameter must be a string`);
    params.append(name, v);
  }
  return params;
}

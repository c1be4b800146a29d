import { newSecret, randomId } from '../auth/secrets.ts';
import type { WebHandler } from '../auth/web-context.ts';
import { json } from '../auth/web-routes.ts';
import { overWebLimit } from '../policy/web-limit.ts';
import { parseStrictJson } from '../transport/strict-json.ts';
import { mediaType } from '../ui/html.ts';
import { validateClientMetadata } from './client-metadata.ts';
import { answerOAuth, OAuthError } from './oauth-error.ts';

const MAX_BODY = 16 * 1024;
const HOUR_MS = 3600_000;

/**
 * POST /oauth/register: RFC 7591 dynamic client registration (SECURITY 16). Redirect URIs are
 * https or loopback http, nothing else; a confidential client gets a `gws_` secret shown once
 * and stored as a hash (SECURITY 32); registrations are rate-limited per client address
 * (policy/client-ip.ts, SECURITY 40) and expire unused (maintenance.ts).
 */
export const registerRoute: WebHandler = (request, ctx, peer) =>
  answerOAuth(async () => {
    if (request.method !== 'POST') throw new OAuthError('invalid_request', 'use POST', 405);
    if (mediaType(request) !== 'application/json') throw new OAuthError('invalid_client_metadata', 'the body must be application/json');
    // SECURITY 40: registration has its own per-address budget (`registration.perHourPerIp`), across processes.
    const limited = await overWebLimit(ctx, peer, 'register', { max: ctx.oauth!.registration!.perHourPerIp, windowMs: HOUR_MS }, 'json');
    if (limited) return limited;
    const body = await readJson(request);
    const meta = validateClientMetadata(body);

    const clientId = randomId(18);
    const secret = meta.authMethod === 'none' ? null : newSecret('client_secret');
    const { store } = await ctx.stores();
    const record = await store.oauthClients.register({
      clientId,
      secretHash: secret?.hash ?? null,
      tokenEndpointAuthMethod: meta.authMethod,
      redirectUris: meta.redirectUris,
      name: meta.name,
      metadata: meta.metadata,
    });
    ctx.logger.info({ client: clientId, ip: peer.ip }, 'oauth client registered');
    // RFC 7591 3.2.1: the registered metadata, the id, and the secret once.
    return json(
      201,
      {
        client_id: clientId,
        client_id_issued_at: Math.floor(record.createdAt / 1000),
        ...(secret ? { client_secret: secret.secret, client_secret_expires_at: 0 } : {}),
        ...meta.metadata,
      },
      { pragma: 'no-cache' },
    );
  });

async function readJson(request: Request): Promise<unknown> {
  let text: string;
  try {
    text = await request.text();
  } catch {
    throw new OAuthError('invalid_client_metadata', 'the body could not be read');
  }
  if (Buffer.byteLength(text) > MAX_BODY) throw new OAuthError('invalid_client_metadata', `the body must be at most ${MAX_BODY} bytes`);
  try {
    // Strict: a repeated key (two redirect_uris, say) is refused, not resolved to the last one,
    // so a proxy or log that reads the first sees what was registered.
    return parseStrictJson(text);
  } catch (err) {
    throw new OAuthError('invalid_client_metadata', `the JSON body is not valid: ${(err as Error).message}`);
  }
}

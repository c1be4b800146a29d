import type { WebContext } from '../auth/web-context.ts';
import type { TokenEndpointAuthMethod } from '../store/types.ts';
import { ClientMetadataDocuments, looksLikeDocumentUrl } from './client-metadata-document.ts';
import type { GrantType } from './client-metadata.ts';
import { OAuthError } from './oauth-error.ts';

/** A client as /authorize, /token and /revoke see it, however it became known. */
export interface OAuthClient {
  clientId: string;
  /** `registered`: RFC 7591 (stored); `document`: a Client ID Metadata Document (fetched). */
  kind: 'registered' | 'document';
  name: string | null;
  redirectUris: string[];
  authMethod: TokenEndpointAuthMethod;
  secretHash: string | null;
  grantTypes: GrantType[];
  /** Host serving the metadata document (shown on the consent page), documents only. */
  documentHost: string | null;
}

const documents = new WeakMap<WebContext, ClientMetadataDocuments>();

function documentsOf(ctx: WebContext): ClientMetadataDocuments | null {
  const o = ctx.oauth?.clientMetadataDocuments;
  if (!o) return null;
  let d = documents.get(ctx);
  if (!d) documents.set(ctx, (d = new ClientMetadataDocuments(o, () => ctx.now())));
  return d;
}

/**
 * Resolves a client id: an https URL is a Client ID Metadata Document (when enabled), anything
 * else a registration in the store. Throws OAuthError `invalid_client` with a reason that may be
 * shown to the user (it never contains a secret).
 */
export async function resolveClient(ctx: WebContext, clientId: string): Promise<OAuthClient> {
  if (clientId.length > 2048) throw new OAuthError('invalid_client', 'unknown client');
  if (looksLikeDocumentUrl(clientId)) {
    const docs = documentsOf(ctx);
    if (!docs) throw new OAuthError('invalid_client', 'this server does not accept URL client ids (Client ID Metadata Documents are off)');
    const d = await docs.get(clientId);
    return {
      clientId: d.clientId,
      kind: 'document',
      name: d.name,
      redirectUris: d.redirectUris,
      authMethod: 'none',
      secretHash: null,
      grantTypes: d.grantTypes,
      documentHost: d.host,
    };
  }
  const { store } = await ctx.stores();
  const r = await store.oauthClients.get(clientId);
  if (!r) throw new OAuthError('invalid_client', 'unknown client');
  const grants = r.metadata.grant_types;
  return {
    clientId: r.clientId,
    kind: 'registered',
    name: r.name,
    redirectUris: r.redirectUris,
    authMethod: r.tokenEndpointAuthMethod,
    secretHash: r.secretHash,
    grantTypes: Array.isArray(grants) ? (grants as GrantType[]) : ['authorization_code'],
    documentHost: null,
  };
}

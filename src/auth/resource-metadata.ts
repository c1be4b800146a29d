/**
 * RFC 9728 protected resource metadata, served at the path-aware well-known URL: for
 * `https://host/mcp` that is `https://host/.well-known/oauth-protected-resource/mcp` (RFC 9728 3.1).
 */
export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

export function resourceMetadataUrl(resource: string): string {
  const u = new URL(resource);
  return `${u.origin}${PRM_PREFIX}${u.pathname === '/' ? '' : u.pathname}`;
}

export function resourceMetadata(o: {
  resource: string;
  authorizationServers: string[];
  scopes: string[];
  name: string;
  documentation?: string;
}): Record<string, unknown> {
  return {
    resource: o.resource,
    authorization_servers: o.authorizationServers,
    scopes_supported: o.scopes,
    bearer_methods_supported: ['header'], // SECURITY 11: the header only, never a query string
    resource_name: o.name,
    ...(o.documentation ? { resource_documentation: o.documentation } : {}),
  };
}

/**
 * The server's canonical URLs: the MCP resource (RFC 8707 audience), the issuer, and where pages
 * live. Fixed by `http.publicUrl` in production. Without it the server binds to loopback only
 * (config refuses otherwise), and the URLs follow the request's Host, which the guard has already
 * limited to loopback names: so a token minted for http://localhost:3000/mcp is not accepted at
 * http://127.0.0.1:3000/mcp, as RFC 8707 wants.
 */
export class PublicUrls {
  private readonly fixed: URL | null;
  constructor(
    publicUrl: string | undefined,
    private readonly path: string,
    private readonly configuredIssuer: string | null,
  ) {
    this.fixed = publicUrl ? new URL(publicUrl) : null;
  }

  origin(host: string | undefined): string {
    return this.fixed ? this.fixed.origin : `http://${(host ?? 'localhost').toLowerCase()}`;
  }

  /** The canonical MCP URL (no trailing slash, no query). */
  resource(host: string | undefined): string {
    if (this.fixed) return `${this.fixed.origin}${this.fixed.pathname === '/' ? this.path : this.fixed.pathname}`;
    return `${this.origin(host)}${this.path}`;
  }

  issuer(host: string | undefined): string {
    return this.configuredIssuer ?? this.origin(host);
  }
}

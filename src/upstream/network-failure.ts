/**
 * What the model reads when the upstream could not be reached. Only the kind of failure: the
 * error's own message names addresses and ports of the private network behind the server
 * (`connect ECONNREFUSED 10.0.3.7:8443`), so it is never passed on.
 */
export function networkFailure(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'The API did not accept a connection in time.';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `The API did not answer within ${timeoutMs} ms.`;
    case 'ECONNREFUSED':
      return 'The API refused the connection.';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "The API's host name could not be resolved.";
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'The connection to the API closed before it answered.';
    default:
      return 'The API could not be reached.';
  }
}

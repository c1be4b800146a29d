import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The web surface (OAuth endpoints, pages) takes web-standard Requests; behind node:http they are
 * built here. Bodies are small forms and JSON: anything over `maxBytes` is refused with 413.
 */
export async function toWebRequest(req: IncomingMessage, maxBytes: number): Promise<Request | 413> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    req.resume();
    return new Request(url, { method, headers });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return 413;
    chunks.push(chunk);
  }
  return new Request(url, { method, headers, body: Buffer.concat(chunks) });
}

export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(await response.arrayBuffer());
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.push(name, value);
  });
  for (const c of response.headers.getSetCookie()) headers.push('set-cookie', c);
  headers.push('content-length', String(body.length));
  res.writeHead(response.status, headers);
  res.end(body);
}


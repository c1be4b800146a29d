import type { HttpInput, McpEndpoint } from './endpoint.ts';
import { type HttpReply, httpError } from './replies.ts';

const encoder = new TextEncoder();

/** The web-standard face of the MCP endpoint: Request in, Response out. */
export async function serveFetch(endpoint: McpEndpoint, maxBodyBytes: number, request: Request, ip?: string): Promise<Response> {
  const url = new URL(request.url);
  const input: HttpInput = {
    method: request.method,
    remoteAddress: ip,
    // A Request built in code has no Host header; its URL says where it was sent.
    header: (name) => request.headers.get(name) ?? (name === 'host' ? url.host : undefined),
  };
  const early = endpoint.preflight(input);
  const cors = endpoint.cors(input);
  const response = await answer(endpoint, maxBodyBytes, request, input, early);
  if (cors) for (const name in cors) response.headers.set(name, cors[name]!);
  return response;
}

async function answer(
  endpoint: McpEndpoint,
  maxBodyBytes: number,
  request: Request,
  input: HttpInput,
  early: HttpReply | null,
): Promise<Response> {
  if (early) return toResponse(early);
  if (input.method !== 'POST') return toResponse(await endpoint.bodiless(input));
  let body: string | undefined;
  try {
    body = (await readBodyBytes(request, maxBodyBytes))?.toString('utf8');
  } catch {
    // The upload broke off (the client went away): answer, never reject.
    return toResponse(httpError(400, 'Bad Request: the request body could not be read'));
  }
  if (body === undefined) return toResponse(endpoint.tooLarge());
  return new Promise<Response>((resolve) => {
    const cancel = endpoint.post(input, body, (reply) => resolve(toResponse(reply)));
    request.signal?.addEventListener('abort', cancel, { once: true });
  });
}

/** The body's bytes, or undefined past the limit: reading stops there (no unbounded buffering). */
export async function readBodyBytes(request: Request, limit: number): Promise<Buffer | undefined> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** The same limit for a Request handed to the web surface: a copy with its body read, or 413. */
export async function capWebRequest(request: Request, maxBytes: number): Promise<Request | 413> {
  if (!request.body) return request;
  if (Number(request.headers.get('content-length') ?? 0) > maxBytes) return 413;
  const body = await readBodyBytes(request, maxBytes);
  return body === undefined ? 413 : new Request(request.url, { method: request.method, headers: request.headers, body: new Uint8Array(body) });
}

export function toResponse(reply: HttpReply): Response {
  if (!reply.stream) {
    const raw = reply.status === 202 || reply.status === 204 ? null : (reply.body ?? '');
    const body =
      typeof raw === 'string' || raw === null
        ? raw
        : (new Uint8Array(Array.isArray(raw) ? Buffer.concat(raw.map((p) => Buffer.from(p))) : (raw as Buffer)) as Uint8Array<ArrayBuffer>);
    return new Response(body, { status: reply.status, headers: reply.headers });
  }
  const outbox = reply.stream;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      outbox.attach(
        (chunk) => controller.enqueue(encoder.encode(chunk)),
        () => controller.close(),
      );
    },
    cancel() {
      outbox.cancel();
    },
  });
  return new Response(stream, { status: reply.status, headers: reply.headers });
}

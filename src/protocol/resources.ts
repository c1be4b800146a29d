import { invalidParams, RpcError } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceContents, ResourceReturn } from '../registry/types.ts';
import { handlerContext } from './handler-context.ts';
import type { RequestScope } from './scope.ts';
import { persisted } from './session.ts';

/** resources/read: a static URI first, then the first template that matches. */
export async function readResource(params: Record<string, unknown> | undefined, scope: RequestScope, registry: Registry) {
  const uri = params?.uri;
  if (typeof uri !== 'string' || uri.length === 0) throw invalidParams('resources/read needs params.uri (string)');
  const ctx = handlerContext(scope);
  const notFound = () =>
    new RpcError(scope.era.resourceNotFoundCode, `Resource not found: ${uri.slice(0, 256)}`, { uri });

  let contents: ResourceContents[];
  const fixed = registry.resources.get(uri);
  if (fixed) {
    contents = normalise(uri, fixed.mimeType, await fixed.read(ctx));
  } else {
    const match = registry.matchTemplate(uri);
    if (!match) throw notFound();
    const value = await match.compiled.def.read(uri, match.variables, ctx);
    if (value === null || value === undefined) throw notFound();
    contents = normalise(uri, match.compiled.def.mimeType, value);
  }
  return scope.era.resultType
    ? { contents, resultType: 'complete', ttlMs: 0, cacheScope: 'private' }
    : { contents };
}

function normalise(uri: string, mimeType: string | undefined, value: ResourceReturn): ResourceContents[] {
  if (typeof value === 'string') return [{ uri, mimeType: mimeType ?? 'text/plain', text: value }];
  if (value instanceof Uint8Array) {
    return [{ uri, mimeType: mimeType ?? 'application/octet-stream', blob: Buffer.from(value).toString('base64') }];
  }
  return Array.isArray(value) ? value : [value];
}

/** resources/subscribe and unsubscribe (2025 eras): remembered on the session. */
export function subscribe(params: Record<string, unknown> | undefined, scope: RequestScope, on: boolean) {
  const uri = params?.uri;
  if (typeof uri !== 'string' || uri.length === 0) throw invalidParams('params.uri (string) is required');
  // What a session keeps must stay small: 1000 URIs of at most 2 KB each.
  if (uri.length > 2048) throw invalidParams('params.uri is longer than 2048 characters');
  const session = scope.session;
  if (!session) throw invalidParams('resources/subscribe needs a session (stateless servers cannot notify)');
  if (on) {
    session.subscriptions ??= new Set();
    if (session.subscriptions.size >= 1000) throw invalidParams('too many subscriptions on this session');
    session.subscriptions.add(uri);
  } else session.subscriptions?.delete(uri);
  return persisted(session);
}

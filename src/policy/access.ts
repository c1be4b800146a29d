import type { Principal } from '../auth/principal.ts';
import type { Registry } from '../registry/registry.ts';

/** Why a request may not go on: no credential where one is needed, or scopes missing. */
export type AccessRefusal = { kind: 'unauthenticated'; target: string } | { kind: 'scope'; target: string; needed: string[] };

interface Guarded {
  scopes?: string[];
  anonymous?: boolean;
}

/**
 * The first two steps of the policy pipeline (visible -> scopes), checked on every call before
 * anything runs (SECURITY 12): an anonymous caller reaches only what is marked `anonymous`; any
 * other caller needs every scope the tool, resource or prompt declares. Completions and
 * subscriptions are checked as the prompt or resource they reveal. Unknown names pass: the
 * engine answers them as unknown, which tells nothing a list would not.
 */
export function checkAccess(
  registry: Registry,
  principal: Principal,
  method: string,
  params: Record<string, unknown> | undefined,
): AccessRefusal | null {
  for (const [target, label] of targets(registry, method, params)) {
    const refused = judge(principal, target, label);
    if (refused) return refused;
  }
  return null;
}

function judge(principal: Principal, target: Guarded, label: string): AccessRefusal | null {
  if (principal.via === 'anonymous') return target.anonymous ? null : { kind: 'unauthenticated', target: label };
  const needed = target.scopes ?? [];
  if (needed.every((s) => principal.scopes.includes(s))) return null;
  return { kind: 'scope', target: label, needed };
}

/** What a request touches: zero, one or (a subscription stream) several guarded items. */
function targets(registry: Registry, method: string, params: Record<string, unknown> | undefined): Array<[Guarded, string]> {
  const resource = (uri: unknown): Array<[Guarded, string]> => {
    if (typeof uri !== 'string') return [];
    const def = registry.resources.get(uri) ?? registry.matchTemplate(uri)?.compiled.def;
    return def ? [[def, `resource ${uri}`]] : [];
  };
  switch (method) {
    case 'tools/call': {
      const def = typeof params?.name === 'string' ? registry.tools.get(params.name)?.def : undefined;
      return def ? [[def, `tool ${params!.name as string}`]] : [];
    }
    case 'prompts/get': {
      const def = typeof params?.name === 'string' ? registry.prompts.get(params.name) : undefined;
      return def ? [[def, `prompt ${params!.name as string}`]] : [];
    }
    case 'resources/read':
    case 'resources/subscribe':
      return resource(params?.uri);
    case 'completion/complete': {
      // Completion values come from the prompt or template they complete: the same guard.
      const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
        const def = registry.prompts.get(ref.name);
        return def ? [[def, `prompt ${ref.name}`]] : [];
      }
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
        const t = registry.templates.find((x) => x.def.uriTemplate === ref.uri);
        return t ? [[t.def, `resource template ${ref.uri}`]] : resource(ref.uri);
      }
      return [];
    }
    case 'subscriptions/listen': {
      const uris = (params?.notifications as { resourceSubscriptions?: unknown } | undefined)?.resourceSubscriptions;
      return Array.isArray(uris) ? uris.slice(0, 1000).flatMap(resource) : [];
    }
    default:
      return [];
  }
}

/** True when something may be used with no credential, so anonymous callers get in at all. */
export function hasAnonymousSurface(registry: Registry): boolean {
  return (
    registry.toolList.some((t) => t.def.anonymous) ||
    registry.resourceList.some((r) => r.anonymous) ||
    registry.templates.some((t) => t.def.anonymous) ||
    registry.promptList.some((p) => p.anonymous)
  );
}

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
  // The per-call cases without allocation (this runs on every request); labels only on refusal.
  switch (method) {
    case 'tools/call':
      return typeof params?.name === 'string' ? judge(principal, registry.tools.get(params.name)?.def, 'tool', params.name) : null;
    case 'prompts/get':
      return typeof params?.name === 'string' ? judge(principal, registry.prompts.get(params.name), 'prompt', params.name) : null;
    case 'resources/read':
    case 'resources/subscribe':
      return typeof params?.uri === 'string' ? judge(principal, resourceDef(registry, params.uri), 'resource', params.uri) : null;
    case 'completion/complete': {
      // Completion values come from the prompt or template they complete: the same guard.
      const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return judge(principal, registry.prompts.get(ref.name), 'prompt', ref.name);
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
        const template = registry.templates.find((x) => x.def.uriTemplate === ref.uri)?.def;
        return judge(principal, template ?? resourceDef(registry, ref.uri), 'resource', ref.uri);
      }
      return null;
    }
    case 'subscriptions/listen': {
      const uris = (params?.notifications as { resourceSubscriptions?: unknown } | undefined)?.resourceSubscriptions;
      if (!Array.isArray(uris)) return null;
      for (const uri of uris.slice(0, 1000)) {
        const refused = typeof uri === 'string' ? judge(principal, resourceDef(registry, uri), 'resource', uri) : null;
        if (refused) return refused;
      }
      return null;
    }
    default:
      return null;
  }
}

const resourceDef = (registry: Registry, uri: string): Guarded | undefined =>
  registry.resources.get(uri) ?? registry.matchTemplate(uri)?.compiled.def;

function judge(principal: Principal, target: Guarded | undefined, kind: string, name: string): AccessRefusal | null {
  if (!target) return null;
  if (principal.via === 'anonymous') return target.anonymous ? null : { kind: 'unauthenticated', target: `${kind} ${name}` };
  const needed = target.scopes ?? [];
  return needed.every((s) => principal.scopes.includes(s)) ? null : { kind: 'scope', target: `${kind} ${name}`, needed };
}

/** The scopes of `needed` the caller does not hold (the rule every scope check uses). */
export function missingScopes(principal: Principal, needed: readonly string[]): string[] {
  return needed.filter((s) => !principal.scopes.includes(s));
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

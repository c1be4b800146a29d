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
 * other caller needs every scope the tool, resource or prompt declares. Unknown names pass: the
 * engine answers them as unknown, which tells nothing a list would not.
 */
export function checkAccess(
  registry: Registry,
  principal: Principal,
  method: string,
  params: Record<string, unknown> | undefined,
): AccessRefusal | null {
  let target: Guarded | undefined;
  let label = '';
  if (method === 'tools/call' && typeof params?.name === 'string') {
    target = registry.tools.get(params.name)?.def;
    label = `tool ${params.name}`;
  } else if (method === 'prompts/get' && typeof params?.name === 'string') {
    target = registry.prompts.get(params.name);
    label = `prompt ${params.name}`;
  } else if ((method === 'resources/read' || method === 'resources/subscribe') && typeof params?.uri === 'string') {
    target = registry.resources.get(params.uri) ?? registry.matchTemplate(params.uri)?.compiled.def;
    label = `resource ${params.uri}`;
  }
  if (!target) return null;
  if (principal.via === 'anonymous') return target.anonymous ? null : { kind: 'unauthenticated', target: label };
  const needed = target.scopes ?? [];
  if (needed.every((s) => principal.scopes.includes(s))) return null;
  return { kind: 'scope', target: label, needed };
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

import type { Principal } from '../auth/principal.ts';
import type { ListFilter } from '../protocol/engine.ts';

/**
 * `policy.toolsList: "permitted"`: lists show only what the caller may use (anonymous callers,
 * what is marked `anonymous`). The visibility set is the caller's sorted scopes, so list bytes
 * are built once per distinct set, not per request.
 */
export function permittedLists(): ListFilter {
  const keys = new WeakMap<readonly string[], string>();
  return {
    key(p: Principal) {
      if (p.via === 'anonymous') return '\u0000anonymous';
      let k = keys.get(p.scopes);
      if (k === undefined) keys.set(p.scopes, (k = [...p.scopes].sort().join(' ')));
      return k;
    },
    visible(p, item) {
      if (p.via === 'anonymous') return item.anonymous === true;
      return (item.scopes ?? []).every((s) => p.scopes.includes(s));
    },
  };
}

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded on first use. undici, jose and yaml cost 10-20 MB of RSS and tens of ms
 * each at start-up; a server that uses no OpenAPI upstream, no external issuer and no YAML
 * should not pay for them. All three ship CommonJS builds, so this stays synchronous.
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

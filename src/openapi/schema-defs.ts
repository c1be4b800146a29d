import { createHash } from 'node:crypto';
import type { JsonSchema } from '../registry/types.ts';

type Schema = JsonSchema | boolean;
type Convert = (node: unknown, at: string, refs: Set<string>) => Schema;

interface Def {
  name: string;
  /** null while being converted (a cycle back to it is then just a reference). */
  schema: Schema | null;
  /** Pointers of the definitions this one references directly. */
  refs: Set<string>;
}

const SAFE = /^[A-Za-z0-9_.-]{1,100}$/;
const NAMED = /^\/(?:components\/schemas|definitions)\/([^/]+)$/;

/**
 * The referenced schemas of one document, each converted once and shared by every tool that
 * reaches it. A tool's schema carries only the definitions it reaches, under `$defs`, so each
 * tool schema is self-contained (MCP clients resolve nothing outside it). Cycles stay cycles:
 * a definition that reaches itself refers to its own `$defs` entry.
 */
export class SchemaDefs {
  private readonly byPointer = new Map<string, Def>();
  private readonly byName = new Map<string, string>();

  constructor(private readonly convert: Convert) {}

  /** Registers (and converts, once) the schema at `pointer`; returns the `$ref` to use. */
  ensure(pointer: string, target: unknown): string {
    let def = this.byPointer.get(pointer);
    if (!def) {
      def = { name: this.nameFor(pointer), schema: null, refs: new Set() };
      this.byPointer.set(pointer, def);
      try {
        def.schema = this.convert(target, pointer, def.refs);
      } catch (err) {
        // Forget it, so the next operation that reaches it fails the same way (skipInvalid).
        this.byPointer.delete(pointer);
        this.byName.delete(def.name);
        throw err;
      }
    }
    return `#/$defs/${def.name}`;
  }

  /** `$defs` for a schema that references `refs`: every definition reachable, keys sorted. */
  closure(refs: Iterable<string>): Record<string, Schema> | undefined {
    const seen = new Set<string>();
    const queue = [...refs];
    while (queue.length) {
      const pointer = queue.pop() as string;
      if (seen.has(pointer)) continue;
      seen.add(pointer);
      for (const next of this.byPointer.get(pointer)?.refs ?? []) queue.push(next);
    }
    if (!seen.size) return undefined;
    const entries = [...seen].map((p) => this.byPointer.get(p) as Def).sort((a, b) => (a.name < b.name ? -1 : 1));
    return Object.fromEntries(entries.map((d) => [d.name, d.schema ?? {}]));
  }

  /**
   * Component names that are already safe keep their name (they are unique keys of one map), so
   * `#/components/schemas/Pet` is `#/$defs/Pet`. Any other pointer gets a readable stem plus a
   * hash of the pointer: stable whatever order the tools are built in.
   */
  private nameFor(pointer: string): string {
    const named = NAMED.exec(pointer)?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
    let name: string;
    if (named !== undefined && SAFE.test(named)) name = named;
    else {
      const stem = (named ?? pointer).replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(-48) || 'def';
      name = `${stem}_${createHash('sha256').update(pointer).digest('hex').slice(0, 8)}`;
    }
    const owner = this.byName.get(name);
    if (owner !== undefined && owner !== pointer) {
      // Only if a component is literally named like another pointer's stem plus its hash.
      name = `${name}_${createHash('sha256').update(pointer).digest('hex').slice(0, 12)}`;
    }
    this.byName.set(name, pointer);
    return name;
  }
}

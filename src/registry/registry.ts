import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { GangwayConfigError } from '../errors.ts';
import { compileSchema, createAjv, SchemaError, toJsonSchema } from './schema.ts';
import type {
  JsonSchema,
  PromptDefinition,
  ResourceDefinition,
  ResourceTemplateDefinition,
  ToolAnnotations,
  ToolDefinition,
} from './types.ts';
import { UriTemplate, UriTemplateError } from './uri-template.ts';

export interface CompiledTool {
  readonly def: ToolDefinition;
  readonly name: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema | undefined;
  readonly annotations: ToolAnnotations | undefined;
  /** Ajv validators, compiled on first use (the schemas were checked at start-up). */
  readonly validateInput: () => ValidateFunction;
  readonly validateOutput: (() => ValidateFunction) | undefined;
}

export interface CompiledTemplate {
  readonly def: ResourceTemplateDefinition;
  readonly template: UriTemplate;
}

export interface RegistryInput {
  tools?: readonly ToolDefinition[];
  resources?: readonly ResourceDefinition[];
  resourceTemplates?: readonly ResourceTemplateDefinition[];
  prompts?: readonly PromptDefinition[];
  /** Items per list page; default: everything on one page. */
  pageSize?: number;
}

export type ListKind = 'tools' | 'resources' | 'resources/templates' | 'prompts';

// 2025-11-25 server/tools: names SHOULD be 1-128 chars of A-Z a-z 0-9 _ - .
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/;
const EMPTY_OBJECT_SCHEMA: JsonSchema = Object.freeze({ type: 'object', properties: {} }) as JsonSchema;

/**
 * Everything the server offers, validated and compiled once at start-up: Ajv validators,
 * lookup maps, a content hash, and (lazily, then cached) the serialised list pages for each
 * protocol era and visibility set. Requests only read from it.
 */
export class Registry {
  readonly tools = new Map<string, CompiledTool>();
  readonly toolList: readonly CompiledTool[];
  readonly resources = new Map<string, ResourceDefinition>();
  readonly resourceList: readonly ResourceDefinition[];
  readonly templates: readonly CompiledTemplate[];
  readonly prompts = new Map<string, PromptDefinition>();
  readonly promptList: readonly PromptDefinition[];
  /** sha256 over every definition's wire shape: a changed definition is a new version. */
  readonly hash: string;
  readonly pageSize: number;
  private readonly cache = new Map<string, Buffer>();

  constructor(input: RegistryInput) {
    const ajv = createAjv();
    const fail = (what: string, msg: string): never => {
      throw new GangwayConfigError('GW_CONFIG_REGISTRY', `${what}: ${msg}`);
    };
    this.pageSize = input.pageSize ?? Number.POSITIVE_INFINITY;
    if (!(this.pageSize >= 1)) fail('pageSize', 'must be a positive integer');

    for (const def of input.tools ?? []) {
      const where = `tool "${def?.name}"`;
      if (!def || typeof def.name !== 'string' || !TOOL_NAME.test(def.name)) {
        fail(where, 'name must be 1-128 characters of A-Z a-z 0-9 _ - .');
      }
      if (this.tools.has(def.name)) fail(where, 'duplicate tool name');
      if (typeof def.handler !== 'function') fail(where, 'handler must be a function');
      try {
        const inputSchema = def.input ? toJsonSchema(def.input, `${where} input`) : EMPTY_OBJECT_SCHEMA;
        if (inputSchema.type !== 'object') fail(where, 'input schema must have type "object"');
        const outputSchema = def.output ? toJsonSchema(def.output, `${where} output`) : undefined;
        if (outputSchema && outputSchema.type !== 'object') fail(where, 'output schema must have type "object"');
        const annotations = def.destructive
          ? { ...def.annotations, destructiveHint: true, readOnlyHint: false }
          : def.annotations;
        this.tools.set(def.name, {
          def,
          name: def.name,
          inputSchema,
          outputSchema,
          annotations,
          validateInput: compileSchema(ajv, inputSchema, `${where} input`),
          validateOutput: outputSchema ? compileSchema(ajv, outputSchema, `${where} output`) : undefined,
        });
      } catch (err) {
        if (err instanceof SchemaError) fail(where, err.message.replace(`${where} `, ''));
        throw err;
      }
    }
    this.toolList = [...this.tools.values()];

    for (const def of input.resources ?? []) {
      const where = `resource "${def?.uri}"`;
      if (typeof def?.uri !== 'string' || !URI.test(def.uri)) fail(where, 'uri must be an absolute URI');
      if (this.resources.has(def.uri)) fail(where, 'duplicate resource uri');
      if (!def.name) fail(where, 'name is required');
      if (typeof def.read !== 'function') fail(where, 'read must be a function');
      this.resources.set(def.uri, def);
    }
    this.resourceList = [...this.resources.values()];

    const seenTemplates = new Set<string>();
    this.templates = (input.resourceTemplates ?? []).map((def) => {
      const where = `resource template "${def?.uriTemplate}"`;
      if (typeof def?.uriTemplate !== 'string' || !URI.test(def.uriTemplate)) {
        fail(where, 'uriTemplate must be an absolute URI template');
      }
      if (seenTemplates.has(def.uriTemplate)) fail(where, 'duplicate uriTemplate');
      seenTemplates.add(def.uriTemplate);
      if (!def.name) fail(where, 'name is required');
      if (typeof def.read !== 'function') fail(where, 'read must be a function');
      try {
        const template = new UriTemplate(def.uriTemplate);
        for (const v of Object.keys(def.complete ?? {})) {
          if (!template.variables.includes(v)) fail(where, `complete names unknown variable "${v}"`);
        }
        return { def, template };
      } catch (err) {
        if (err instanceof UriTemplateError) return fail(where, err.message);
        throw err;
      }
    });

    for (const def of input.prompts ?? []) {
      const where = `prompt "${def?.name}"`;
      if (typeof def?.name !== 'string' || !TOOL_NAME.test(def.name)) {
        fail(where, 'name must be 1-128 characters of A-Z a-z 0-9 _ - .');
      }
      if (this.prompts.has(def.name)) fail(where, 'duplicate prompt name');
      if (typeof def.get !== 'function') fail(where, 'get must be a function');
      const argNames = new Set<string>();
      for (const a of def.arguments ?? []) {
        if (!a?.name) fail(where, 'every argument needs a name');
        if (argNames.has(a.name)) fail(where, `duplicate argument "${a.name}"`);
        argNames.add(a.name);
      }
      this.prompts.set(def.name, def);
    }
    this.promptList = [...this.prompts.values()];

    this.hash = createHash('sha256')
      .update(
        JSON.stringify({
          t: this.toolList.map((t) => [t.name, t.def.title, t.def.description, t.inputSchema, t.outputSchema, t.annotations, t.def.scopes]),
          r: this.resourceList.map((r) => [r.uri, r.name, r.title, r.description, r.mimeType, r.scopes]),
          rt: this.templates.map((t) => [t.def.uriTemplate, t.def.name, t.def.description, t.def.mimeType]),
          p: this.promptList.map((p) => [p.name, p.description, p.arguments?.map((a) => [a.name, a.required])]),
        }),
      )
      .digest('hex');
  }

  /** Finds the template that expands to `uri`, with its variables. */
  matchTemplate(uri: string): { compiled: CompiledTemplate; variables: Record<string, string | string[]> } | null {
    for (const compiled of this.templates) {
      const variables = compiled.template.match(uri);
      if (variables) return { compiled, variables };
    }
    return null;
  }

  /**
   * The bytes of one list page, built on first use and cached. `key` names the era and the
   * visibility set; `build` shapes the page's items into the full result object.
   */
  listPage<T>(
    kind: ListKind,
    items: readonly T[],
    offset: number,
    key: string,
    build: (page: readonly T[], nextCursor: string | undefined) => unknown,
  ): Buffer {
    const cacheKey = `${kind}\u0000${key}\u0000${offset}`;
    let bytes = this.cache.get(cacheKey);
    if (!bytes) {
      const end = Math.min(items.length, offset + this.pageSize);
      const next = end < items.length ? this.cursor(kind, end) : undefined;
      bytes = Buffer.from(JSON.stringify(build(items.slice(offset, end), next)));
      // Bounded: per-visibility-set pages must not grow without end.
      if (this.cache.size < 4096) this.cache.set(cacheKey, bytes);
    }
    return bytes;
  }

  /** Opaque cursor: the offset, bound to the kind and to this registry's version. */
  cursor(kind: ListKind, offset: number): string {
    return Buffer.from(`${kind}:${offset}:${this.hash.slice(0, 12)}`).toString('base64url');
  }

  /** Offset for a cursor, or null when it is not one of ours (or from another version). */
  parseCursor(kind: ListKind, cursor: string): number | null {
    const parts = Buffer.from(cursor, 'base64url').toString().split(':');
    if (parts.length !== 3 || parts[0] !== kind || parts[2] !== this.hash.slice(0, 12)) return null;
    const offset = Number(parts[1]);
    return Number.isInteger(offset) && offset > 0 ? offset : null;
  }
}

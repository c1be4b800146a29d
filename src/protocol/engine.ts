import { hash } from 'node:crypto';
import { type Principal, principalKey } from '../auth/principal.ts';
import { invalidParams, methodNotFound } from '../errors.ts';
import type { ListKind, Registry } from '../registry/registry.ts';
import { complete } from './completion.ts';
import { type Era, negotiateLegacy, SUPPORTED_VERSIONS } from './eras.ts';
import { InputRequired, RequestStateCodec } from './input-required.ts';
import { getPrompt } from './prompts.ts';
import { readResource, subscribe } from './resources.ts';
import { isLogLevel, type RequestScope } from './scope.ts';
import { persisted } from './session.ts';
import { promptWire, resourceWire, templateWire, toolWire } from './shape.ts';
import { type CallPipeline, callTool, type ToolRunnerOptions } from './tools.ts';

export interface ServerInfo {
  name: string;
  version: string;
  title?: string;
  description?: string;
  websiteUrl?: string;
}

export interface EngineOptions {
  registry: Registry;
  serverInfo: ServerInfo;
  instructions?: string;
  timeoutMs: number;
  /** 2026-07-28 `ttlMs` on list and discover results. */
  listTtlMs: number;
  stateCodec: RequestStateCodec;
  onHandlerError: ToolRunnerOptions['onHandlerError'];
  pipeline?: CallPipeline;
  /** `permitted`: lists show only what the caller may use (cached per scope set). */
  listFilter?: ListFilter;
}

/** Decides what a caller sees in lists; `key` names the visibility set (cached per key). */
export interface ListFilter {
  key(principal: Principal): string | null;
  visible(principal: Principal, item: { scopes?: string[]; anonymous?: boolean }): boolean;
}

type Method = (params: Record<string, unknown> | undefined, scope: RequestScope) => unknown;

/**
 * JSON-RPC dispatch for every era. Knows nothing of HTTP: the transport hands it a method,
 * params and a RequestScope and gets back a result object, or a Buffer holding a result
 * serialised once (lists), or a thrown RpcError.
 */
export class Engine {
  readonly capabilities: Record<string, unknown>;
  private readonly shared: Map<string, Method>;
  private readonly legacyOnly: Map<string, Method>;
  private readonly modernOnly: Map<string, Method>;
  private readonly discoverBytes: Buffer;
  private readonly firstPages = new Map<ListKind, Map<Era, Buffer>>();
  private readonly visibleSets = new Map<string, unknown[]>();

  constructor(private readonly o: EngineOptions) {
    const r = o.registry;
    const hasResources = r.resourceList.length > 0 || r.templates.length > 0;
    const hasCompletions =
      r.templates.some((t) => t.def.complete) || r.promptList.some((p) => p.arguments?.some((a) => a.complete));
    this.capabilities = {
      ...(r.toolList.length ? { tools: { listChanged: false } } : {}),
      ...(hasResources ? { resources: { subscribe: true, listChanged: false } } : {}),
      ...(r.promptList.length ? { prompts: { listChanged: false } } : {}),
      ...(hasCompletions ? { completions: {} } : {}),
      logging: {},
    };
    const runner: ToolRunnerOptions = {
      registry: r,
      timeoutMs: o.timeoutMs,
      onHandlerError: o.onHandlerError,
      ...(o.pipeline ? { pipeline: o.pipeline } : {}),
    };
    const pipeline = o.pipeline;
    const read = (method: string, key: 'uri' | 'name', run: Method): Method =>
      pipeline ? (p, s) => pipeline.read(method, typeof p?.[key] === 'string' ? p[key] : '', s, () => run(p, s)) : run;

    this.shared = new Map<string, Method>([
      ['tools/list', (p, s) => this.list('tools', r.toolList, p, s, toolWire)],
      ['resources/list', (p, s) => this.list('resources', r.resourceList, p, s, resourceWire)],
      ['resources/templates/list', (p, s) => this.list('resources/templates', r.templates, p, s, templateWire)],
      ['prompts/list', (p, s) => this.list('prompts', r.promptList, p, s, promptWire)],
      ['tools/call', (p, s) => this.roundTrip(p, s, 'name', (p2, s2) => callTool(p2, s2, runner))],
      ['resources/read', (p, s) => this.roundTrip(p, s, 'uri', read('resources/read', 'uri', (p2, s2) => readResource(p2, s2, r)))],
      ['prompts/get', (p, s) => this.roundTrip(p, s, 'name', read('prompts/get', 'name', (p2, s2) => getPrompt(p2, s2, r)))],
      ['completion/complete', (p, s) => complete(p, s, r)],
    ]);
    this.legacyOnly = new Map<string, Method>([
      ['ping', () => ({})],
      ['logging/setLevel', (p, s) => this.setLevel(p, s)],
      ['resources/subscribe', (p, s) => subscribe(p, s, true)],
      ['resources/unsubscribe', (p, s) => subscribe(p, s, false)],
    ]);
    this.modernOnly = new Map<string, Method>([['server/discover', () => this.discoverBytes]]);
    this.discoverBytes = Buffer.from(
      JSON.stringify({
        supportedVersions: SUPPORTED_VERSIONS,
        capabilities: this.capabilities,
        ...(o.instructions ? { instructions: o.instructions } : {}),
        resultType: 'complete',
        ttlMs: o.listTtlMs,
        cacheScope: 'public',
        _meta: { 'io.modelcontextprotocol/serverInfo': o.serverInfo },
      }),
    );
  }

  /** True if `method` exists in `era` (unknown methods are -32601, 404 over modern HTTP). */
  knows(method: string, era: Era): boolean {
    return this.shared.has(method) || (era.modern ? this.modernOnly : this.legacyOnly).has(method);
  }

  handle(method: string, params: Record<string, unknown> | undefined, scope: RequestScope): unknown {
    const fn = this.shared.get(method) ?? (scope.era.modern ? this.modernOnly : this.legacyOnly).get(method);
    if (!fn) throw methodNotFound(method, scope.era.modern ? 404 : 200);
    return fn(params, scope);
  }

  /** initialize (2025 eras): negotiated era and the result to send. */
  initialize(params: Record<string, unknown> | undefined) {
    if (!params || typeof params.protocolVersion !== 'string') {
      throw invalidParams('initialize needs params.protocolVersion (string)');
    }
    const caps = params.capabilities;
    if (caps !== undefined && (typeof caps !== 'object' || caps === null || Array.isArray(caps))) {
      throw invalidParams('initialize params.capabilities must be an object');
    }
    // A session keeps these for its lifetime; bound them (the body limit alone allows megabytes).
    if (JSON.stringify(caps ?? {}).length > 16_384 || JSON.stringify(params.clientInfo ?? {}).length > 4_096) {
      throw invalidParams('initialize: capabilities (16 KB) or clientInfo (4 KB) too large');
    }
    const era = negotiateLegacy(params.protocolVersion);
    const result: Record<string, unknown> = {
      protocolVersion: era.version,
      capabilities: this.capabilities,
      serverInfo: this.o.serverInfo,
    };
    if (this.o.instructions) result.instructions = this.o.instructions;
    return {
      era,
      result,
      clientCapabilities: (caps ?? {}) as Record<string, unknown>,
      clientInfo: params.clientInfo as { name?: string; version?: string } | undefined,
    };
  }

  /** The items of a list one visibility set may see, computed once per set (a bounded cache). */
  private visible<T>(kind: ListKind, items: readonly T[], vkey: string, principal: Principal): readonly T[] {
    const key = `${kind}\u0000${vkey}`;
    let seen = this.visibleSets.get(key) as T[] | undefined;
    if (!seen) {
      const filter = this.o.listFilter!;
      seen = items.filter((i) => filter.visible(principal, guardOf(i)));
      if (this.visibleSets.size < 1024) this.visibleSets.set(key, seen);
    }
    return seen;
  }

  private list<T>(
    kind: ListKind,
    items: readonly T[],
    params: Record<string, unknown> | undefined,
    scope: RequestScope,
    wire: (item: T, era: Era) => unknown,
  ): Buffer {
    const era = scope.era;
    let offset = 0;
    const cursor = params?.cursor;
    const vkey = this.o.listFilter?.key(scope.principal) ?? null;
    if (vkey !== null) items = this.visible(kind, items, vkey, scope.principal);
    // The first page (usually the only one) is found by object identity: no key string per call.
    const first = cursor === undefined && vkey === null ? this.firstPages.get(kind)?.get(era) : undefined;
    if (first) return first;
    if (cursor !== undefined) {
      const parsed = typeof cursor === 'string' ? this.o.registry.parseCursor(kind, cursor) : null;
      // Only offsets we could have issued: a forged one must not grow the page cache.
      if (parsed === null || parsed >= items.length || parsed % this.o.registry.pageSize !== 0) {
        throw invalidParams('Invalid cursor: start again without one');
      }
      offset = parsed;
    }
    const bytes = this.o.registry.listPage(kind, items, offset, vkey === null ? era.version : `${era.version}\u0001${vkey}`, (page, nextCursor) => {
      const key = kind === 'resources/templates' ? 'resourceTemplates' : kind;
      const result: Record<string, unknown> = { [key]: page.map((i) => wire(i, era)) };
      if (nextCursor) result.nextCursor = nextCursor;
      if (era.resultType) {
        result.resultType = 'complete';
        result.ttlMs = this.o.listTtlMs;
        // A list filtered for this caller must not be served to another by a shared cache.
        result.cacheScope = vkey === null ? 'public' : 'private';
      }
      return result;
    });
    if (offset === 0 && vkey === null) {
      let byEra = this.firstPages.get(kind);
      if (!byEra) this.firstPages.set(kind, (byEra = new Map()));
      byEra.set(era, bytes);
    }
    return bytes;
  }

  private setLevel(params: Record<string, unknown> | undefined, scope: RequestScope) {
    if (!isLogLevel(params?.level)) throw invalidParams('logging/setLevel needs params.level (a syslog level name)');
    if (!scope.session) return {};
    scope.session.logLevel = params.level;
    return persisted(scope.session);
  }

  /**
   * 2026-07-28 multi round-trip: opens the signed requestState, hands the handler its answers,
   * and turns an InputRequired into an `input_required` result carrying a new state.
   */
  private roundTrip(
    params: Record<string, unknown> | undefined,
    scope: RequestScope,
    targetKey: 'name' | 'uri',
    run: (p: Record<string, unknown> | undefined, s: RequestScope) => unknown,
  ): unknown {
    if (!scope.era.modern) return run(params, scope);
    // A sha256 over the arguments: computed only when a state is opened or sealed (not per call).
    const binding = () =>
      RequestStateCodec.binding(
        principalKey(scope.principal),
        scope.method,
        JSON.stringify(params?.[targetKey] ?? null),
        params?.arguments,
      );
    let answers: Record<string, unknown> = {};
    if (params?.requestState !== undefined) {
      answers = this.o.stateCodec.open(params.requestState, binding());
      scope.stateId = hash('sha256', params.requestState as string, 'base64url');
    }
    const given = params?.inputResponses;
    if (given !== undefined) {
      if (typeof given !== 'object' || given === null || Array.isArray(given)) {
        throw invalidParams('inputResponses must be an object keyed like inputRequests');
      }
      // `gangway:` keys are the server's own, carried only inside the signed state.
      if (Object.keys(given).some((k) => k.startsWith('gangway:'))) throw invalidParams('inputResponses keys starting with "gangway:" are reserved');
      answers = { ...answers, ...(given as Record<string, unknown>) };
    }
    // Always set: the policy pipeline may add its own record to what the next state carries.
    scope.inputResponses = answers;
    const asked = (err: unknown) => {
      if (!(err instanceof InputRequired)) throw err;
      return {
        resultType: 'input_required',
        inputRequests: err.requests,
        requestState: this.o.stateCodec.seal(binding(), scope.inputResponses ?? answers),
      };
    };
    try {
      const value = run(params, scope);
      return value instanceof Promise ? value.catch(asked) : value;
    } catch (err) {
      return asked(err);
    }
  }
}

/** Tools and templates keep their definition under `def`; resources and prompts are definitions. */
function guardOf(item: unknown): { scopes?: string[]; anonymous?: boolean } {
  const i = item as { def?: { scopes?: string[]; anonymous?: boolean }; scopes?: string[]; anonymous?: boolean };
  return i.def ?? i;
}

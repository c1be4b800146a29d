import fc from 'fast-check';
import { MAX_BODY, RESOURCE_URI, TEMPLATE } from './fixture.ts';

/**
 * Generators for the HTTP fuzz test. A case is plain data (so fast-check can print and shrink
 * it): an HTTP method, a path, a list of header lines and the exact body bytes. Valid requests of
 * every protocol era are generated first, then mutated structurally (members, ids, params,
 * method names, _meta), textually (raw duplicate keys, \u-escaped keys, truncation) and at the
 * byte level (invalid UTF-8), and finally wrapped (batches) and given random header sets. The
 * socket-only generator adds duplicate header lines and chunked bodies split inside UTF-8.
 */

export const LEGACY_ERAS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;
export const MODERN = '2026-07-28';
export type EraName = (typeof LEGACY_ERAS)[number] | typeof MODERN;

const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';
const META_LOG = 'io.modelcontextprotocol/logLevel';

/** Sessions the runner keeps alive: index = era index * 2 + (client declared elicitation, sampling, roots ? 1 : 0). */
export const POOL_SIZE = LEGACY_ERAS.length * 2;
export const poolEra = (i: number): EraName => LEGACY_ERAS[Math.floor(i / 2)]!;
export const poolCaps = (i: number): Record<string, unknown> =>
  i % 2 ? { elicitation: {}, sampling: {}, roots: {} } : {};

/** A header value, or "the live session of pool slot N" (resolved by the runner just before sending). */
export type HeaderValue = string | { readonly session: number };

export interface FuzzCase {
  /** Which fixture server: sessions (2025 eras need initialize) or stateless. */
  readonly target: 'stateful' | 'stateless';
  readonly method: string;
  readonly path: string;
  /** Header lines in order; a name may repeat (sent as separate lines over the socket). */
  readonly headers: ReadonlyArray<readonly [string, HeaderValue]>;
  /** Exact body bytes, or null for none. */
  readonly body: Uint8Array | null;
  /** node:http only: 0 sends Content-Length, n > 0 sends the body chunked in n pieces. */
  readonly chunks: number;
  /** Which generator made it (for the coverage summary). */
  readonly label: string;
  /**
   * The client goes away: right after sending (early), halfway through the body (body: the
   * socket is destroyed, or the fetch body stream errors) or as soon as the response headers
   * arrive (headers). Only "no crash, no 5xx, app.fetch() answers" applies.
   */
  readonly abort?: 'early' | 'body' | 'headers';
  /** The body is an ambiguous envelope (duplicate key, unknown member): any success is a bug. */
  readonly refuse?: string;
}

/** The members a JSON-RPC 2.0 message may have. */
const MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

// ------------------------------------------------------------------------------------------
// Leaves: strings, ids, tricky values

const printable = fc.string({ maxLength: 16 });
const anyString = fc.oneof(
  printable,
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff\ud800',
    '\u202e',
    '\ufeff',
    '💥',
    'é',
    '\u0085',
    'x'.repeat(300),
  ),
);

/** Keys that break naive code: prototype members, envelope names, case variants, NUL. */
const trickyKey = fc.constantFrom(
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toJSON',
  'then',
  'length',
  'method',
  'Method',
  'id',
  'ID',
  'jsonrpc',
  'params',
  'result',
  'error',
  '',
  '\u0000',
  'name',
  'uri',
  '_meta',
);

const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -1,
    1.5,
    1e21,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 64,
  ),
  anyString,
  fc.constant([]),
  fc.constant({}),
);

/** Own-property assignment that works for "__proto__" too (JSON.parse makes it an own key). */
export function defineKey(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
const fromEntries = (entries: ReadonlyArray<readonly [string, unknown]>) => {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) defineKey(o, k, v);
  return o;
};

const trickyObject = fc.array(fc.tuple(trickyKey, leaf), { minLength: 1, maxLength: 3 }).map(fromEntries);

/** Objects that shadow Object.prototype: String(), `+`, template literals and `in` all misbehave on them. */
const protoObject = fc
  .record({
    keys: fc.subarray(['toString', 'valueOf', 'toJSON', '__proto__', 'constructor', 'hasOwnProperty'], {
      minLength: 1,
    }),
    value: fc.constantFrom<unknown>(1, true, null, 'x', {}, []),
  })
  .map(({ keys, value }) => fromEntries(keys.map((k) => [k, value] as const)));

/** Nested arrays or objects, sometimes deeper than the parser's nesting limit (64). */
export const deepValue = fc
  .record({ depth: fc.integer({ min: 1, max: 120 }), kind: fc.constantFrom('array', 'object', 'mixed') })
  .map(({ depth, kind }) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) {
      v = kind === 'array' || (kind === 'mixed' && i % 2) ? [v] : { a: v };
    }
    return v;
  });

export const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 3, arbitrary: trickyObject },
  { weight: 2, arbitrary: protoObject },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
);

const idArb = fc.oneof(
  fc.integer({ min: -1000, max: 100_000 }),
  printable,
  fc.constantFrom(0, 'gw-1', Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, '', 'listen:1'),
);

// ------------------------------------------------------------------------------------------
// Valid-ish messages of every era

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
const uriArb = fc.oneof(
  fc.constantFrom(
    RESOURCE_URI,
    'fixture://items/1',
    'fixture://items/42',
    'fixture://items/missing',
    'fixture://items/',
    'fixture://items/a%2Fb',
    'nope://x',
    TEMPLATE,
    '',
  ),
  anyString,
);

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** undefined most of the time (`odds` to 1), else a value. (fc.option's freq is the other way round.) */
const rarely = <T>(arb: fc.Arbitrary<T>, odds: number) =>
  fc.oneof({ weight: odds, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const compact = (o: Record<string, unknown>) => {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
};

/** Answers to the fixture's questions (keys "confirm", "model", "roots"): right shapes, wrong shapes, anything. */
export const ANSWERS = {
  confirm: fc.oneof(
    fc.constantFrom({ action: 'accept', content: { ok: true } }, { action: 'decline' }, { action: 'cancel' }),
    fc.record(
      { action: fc.oneof(fc.constantFrom('accept', 'ACCEPT', ''), weird), content: weird },
      { requiredKeys: [] },
    ),
    weird,
  ),
  model: fc.oneof(
    fc.constant({ role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' }),
    fc.record({ role: weird, content: weird }, { requiredKeys: [] }),
    weird,
  ),
  roots: fc.oneof(
    fc.constant({ roots: [{ uri: 'file:///tmp', name: 'tmp' }] }),
    fc.record({
      roots: fc.oneof(fc.array(fc.record({ uri: fc.oneof(printable, weird) }), { maxLength: 3 }), weird),
    }),
    weird,
  ),
};

const toolCallParams = (modern: boolean) =>
  fc
    .record({
      base: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            name: fc.constant('echo'),
            arguments: fc.record(
              { text: printable, count: fc.integer({ min: -2, max: 12 }) },
              { requiredKeys: ['text'] },
            ),
          }),
        },
        { weight: 1, arbitrary: fc.record({ name: fc.constant('echo'), arguments: weird }) },
        {
          weight: 2,
          arbitrary: fc
            .constantFrom('noargs', 'chatty', 'ask', 'survey', 'boom', 'fail')
            .map((name) => ({ name })),
        },
        { weight: 1, arbitrary: fc.record({ name: anyString }) },
        { weight: 1, arbitrary: fc.record({ name: weird }) },
      ),
      requestState: modern
        ? maybe(fc.oneof(printable, fc.constantFrom('a.b', '.', 'eyJ9.x'), weird))
        : fc.constant(undefined),
      inputResponses: modern
        ? maybe(
            fc.oneof(
              fc.record(ANSWERS, { requiredKeys: [] }),
              fc.dictionary(fc.constantFrom('confirm', 'model', 'roots', '__proto__', 'toString'), weird, {
                maxKeys: 3,
              }),
              weird,
            ),
          )
        : fc.constant(undefined),
    })
    .map(({ base, requestState, inputResponses }) => compact({ ...base, requestState, inputResponses }));

const paramsFor: Record<string, (modern: boolean) => fc.Arbitrary<Record<string, unknown>>> = {
  'tools/list': () => fc.oneof(fc.constant({}), fc.record({ cursor: fc.oneof(printable, weird) })),
  'resources/list': () => fc.constant({}),
  'resources/templates/list': () => fc.constant({}),
  'prompts/list': () => fc.oneof(fc.constant({}), fc.record({ cursor: printable })),
  'tools/call': toolCallParams,
  'resources/read': () =>
    fc.record({ uri: fc.oneof({ weight: 4, arbitrary: uriArb }, { weight: 1, arbitrary: weird }) }),
  'prompts/get': () =>
    fc.record(
      {
        name: fc.oneof(
          { weight: 4, arbitrary: fc.constant('greet') },
          { weight: 1, arbitrary: anyString },
          { weight: 1, arbitrary: weird },
        ),
        arguments: fc.oneof(
          fc.record({ name: printable, tone: printable }, { requiredKeys: ['name'] }),
          weird,
        ),
      },
      { requiredKeys: ['name'] },
    ),
  'completion/complete': () =>
    fc
      .record({
        ref: fc.oneof(
          fc.constant({ type: 'ref/prompt', name: 'greet' }),
          fc.constant({ type: 'ref/resource', uri: TEMPLATE }),
          fc.record({
            type: fc.constantFrom('ref/prompt', 'ref/resource', 'ref/x'),
            name: weird,
            uri: weird,
          }),
          weird,
        ),
        argument: fc.oneof(
          fc.record({ name: fc.constantFrom('name', 'id', 'tone'), value: printable }),
          weird,
        ),
        context: maybe(
          fc.oneof(fc.record({ arguments: fc.dictionary(printable, printable, { maxKeys: 2 }) }), weird),
        ),
      })
      .map(compact),
  ping: () => fc.constant({}),
  'logging/setLevel': () => fc.record({ level: fc.oneof(fc.constantFrom(...LEVELS), weird) }),
  'resources/subscribe': () => fc.record({ uri: uriArb }),
  'resources/unsubscribe': () => fc.record({ uri: uriArb }),
  'server/discover': () => fc.constant({}),
  'subscriptions/listen': () =>
    fc.oneof(
      fc.record({ notifications: fc.record({ resourceSubscriptions: fc.array(uriArb, { maxLength: 3 }) }) }),
      fc.constant({ notifications: {} }),
      fc.record({ notifications: weird }),
      fc.constant({}),
    ),
};

const SHARED = [
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'prompts/list',
  'tools/call',
  'resources/read',
  'prompts/get',
  'completion/complete',
];
const LEGACY_METHODS = [
  ...SHARED,
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
];
const MODERN_METHODS = [...SHARED, 'server/discover', 'subscriptions/listen'];

/** A message before mutation, with what its HTTP headers should say. */
export interface Draft {
  readonly era: EraName;
  readonly msg: Record<string, unknown>;
  /** True for requests and notifications (they get Mcp-Method); the value of Mcp-Name if any. */
  readonly mcpMethod: string | undefined;
  readonly mcpName: unknown;
  /** Pool slot of the session to send it on (2025 eras, not initialize). */
  readonly session: number | undefined;
}

const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

const methodCall = (methods: readonly string[], modern: boolean) =>
  fc
    .constantFrom(...methods)
    .chain((method) => paramsFor[method]!(modern).map((params) => ({ method, params })));

const modernMeta = fc
  .record({
    caps: fc.constantFrom({}, { elicitation: {} }, { elicitation: {}, sampling: {}, roots: {} }),
    logLevel: maybe(fc.constantFrom(...LEVELS)),
    progressToken: maybe(fc.oneof(fc.integer({ min: 0, max: 1000 }), printable)),
    clientInfo: maybe(fc.constant({ name: 'fuzz', version: '1' })),
  })
  .map(({ caps, logLevel, progressToken, clientInfo }) =>
    compact({
      [META_VERSION]: MODERN,
      [META_CAPS]: caps,
      [META_LOG]: logLevel,
      progressToken,
      'io.modelcontextprotocol/clientInfo': clientInfo,
    }),
  );

const modernDraft: fc.Arbitrary<Draft> = fc
  .record({
    call: methodCall(MODERN_METHODS, true),
    id: idArb,
    meta: modernMeta,
    kind: fc.constantFrom('request', 'request', 'request', 'request', 'notification', 'response'),
    notification: fc.constantFrom(
      'notifications/initialized',
      'notifications/cancelled',
      'notifications/message',
    ),
  })
  .map(({ call, id, meta, kind, notification }) => {
    if (kind === 'notification') {
      const method = notification;
      const msg = { jsonrpc: '2.0', method, params: { requestId: id, _meta: meta } };
      return { era: MODERN, msg, mcpMethod: method, mcpName: undefined, session: undefined };
    }
    if (kind === 'response') {
      return {
        era: MODERN,
        msg: { jsonrpc: '2.0', id, result: {} },
        mcpMethod: undefined,
        mcpName: undefined,
        session: undefined,
      };
    }
    const params: Record<string, unknown> = { ...call.params, _meta: meta };
    const source = NAME_SOURCE[call.method];
    return {
      era: MODERN,
      msg: { jsonrpc: '2.0', id, method: call.method, params },
      mcpMethod: call.method,
      mcpName: source ? params[source] : undefined,
      session: undefined,
    };
  });

const legacyDraft: fc.Arbitrary<Draft> = fc
  .record({
    eraIndex: fc.integer({ min: 0, max: LEGACY_ERAS.length - 1 }),
    caps: fc.boolean(),
    call: methodCall(LEGACY_METHODS, false),
    id: idArb,
    progressToken: maybe(fc.oneof(fc.integer({ min: 0, max: 1000 }), printable)),
    kind: fc.constantFrom(
      'request',
      'request',
      'request',
      'request',
      'request',
      'initialize',
      'notification',
      'response',
    ),
    requested: rarely(fc.oneof(fc.constantFrom(...LEGACY_ERAS, MODERN, '1999-01-01'), anyString, weird), 3),
    notification: fc.constantFrom(
      'notifications/initialized',
      'notifications/cancelled',
      'notifications/roots/list_changed',
    ),
    answer: fc.oneof(
      fc.record({
        result: fc.constantFrom({ action: 'accept', content: { ok: true } }, { action: 'decline' }),
      }),
      fc.record({ error: fc.record({ code: fc.integer(), message: printable }) }),
    ),
  })
  .map(({ eraIndex, caps, call, id, progressToken, kind, requested, notification, answer }) => {
    const era = LEGACY_ERAS[eraIndex]!;
    const session = eraIndex * 2 + (caps ? 1 : 0);
    if (kind === 'initialize') {
      const params = {
        protocolVersion: requested === undefined ? era : requested,
        capabilities: caps ? { elicitation: {}, sampling: {} } : {},
        clientInfo: { name: 'fuzz', version: '1' },
      };
      return {
        era,
        msg: { jsonrpc: '2.0', id, method: 'initialize', params },
        mcpMethod: 'initialize',
        mcpName: undefined,
        session: undefined,
      };
    }
    if (kind === 'notification') {
      const params =
        notification === 'notifications/cancelled' ? { requestId: id, reason: 'fuzz' } : undefined;
      return {
        era,
        msg: compact({ jsonrpc: '2.0', method: notification, params }),
        mcpMethod: notification,
        mcpName: undefined,
        session,
      };
    }
    if (kind === 'response') {
      const rid = typeof id === 'number' ? `gw-${Math.abs(id) % 5}` : id;
      return {
        era,
        msg: { jsonrpc: '2.0', id: rid, ...answer },
        mcpMethod: undefined,
        mcpName: undefined,
        session,
      };
    }
    const params = progressToken === undefined ? call.params : { ...call.params, _meta: { progressToken } };
    return {
      era,
      msg: { jsonrpc: '2.0', id, method: call.method, params },
      mcpMethod: call.method,
      mcpName: undefined,
      session,
    };
  });

export const draftArb: fc.Arbitrary<Draft> = fc.oneof(legacyDraft, modernDraft);

// ------------------------------------------------------------------------------------------
// Structural mutations (on the message object)

export type Mutation =
  | {
      readonly k: 'set';
      readonly at: 'top' | 'params' | 'meta' | 'args';
      readonly key: string;
      readonly value: unknown;
    }
  | { readonly k: 'delete'; readonly at: 'top' | 'params' | 'meta'; readonly key: string }
  | { readonly k: 'caseKey'; readonly key: string; readonly variant: number }
  | { readonly k: 'method'; readonly value: unknown };

const METHOD_VALUES = fc.oneof(
  fc.constantFrom(
    'tools/call\u0000',
    'tools\u0000/list',
    '\u0000tools/list',
    'tools/list ',
    'Tools/List',
    'tools/lis\u0074',
    'tool\u200bs/list',
    'ｔools/list',
    'initialize\u0000',
    'rpc.discover',
    '',
    'x'.repeat(257),
    'notifications/',
  ),
  anyString,
  weird,
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // extra members, replaced ids, wrong jsonrpc, params of every type
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('set' as const),
      at: fc.constant('top' as const),
      key: fc.constantFrom('id', 'jsonrpc', 'params', 'result', 'error', 'extra', 'Method', 'ID', 'method '),
      value: fc.oneof(
        weird,
        fc.constantFrom(
          '2.0',
          '2',
          '1.0',
          2,
          2.0,
          null,
          'gw-1',
          1.5,
          -0.5,
          1e21,
          Number.MAX_SAFE_INTEGER + 1,
        ),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('set' as const),
      at: fc.constantFrom('params' as const, 'meta' as const, 'args' as const),
      key: fc.oneof(
        trickyKey,
        fc.constantFrom(
          META_VERSION,
          META_CAPS,
          META_LOG,
          'progressToken',
          'name',
          'uri',
          'arguments',
          'text',
          'count',
          'requestState',
        ),
      ),
      value: weird,
    }),
  },
  // the reserved _meta members every 2026 request carries, replaced by anything
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('set' as const),
      at: fc.constant('meta' as const),
      key: fc.constantFrom(META_VERSION, META_CAPS, META_LOG, 'progressToken'),
      value: weird,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('delete' as const),
      at: fc.constantFrom('top' as const, 'params' as const, 'meta' as const),
      key: fc.constantFrom(
        'id',
        'jsonrpc',
        'method',
        'params',
        '_meta',
        META_VERSION,
        META_CAPS,
        'name',
        'uri',
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('caseKey' as const),
      key: fc.constantFrom('method', 'id', 'jsonrpc', 'params'),
      variant: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('method' as const), value: METHOD_VALUES }) },
);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function clone<T>(v: T): T {
  // structuredClone keeps own "__proto__" keys as data
  return structuredClone(v);
}

function caseVariant(key: string, n: number): string {
  const variants = [
    key.toUpperCase(),
    key[0]!.toUpperCase() + key.slice(1),
    ` ${key}`,
    `${key}\u0000`,
    key.normalize('NFKD'),
  ];
  return variants[n % variants.length]!;
}

export function mutate(msg: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const out = clone(msg);
  const params = () => {
    if (!isObject(out.params)) defineKey(out, 'params', {});
    return out.params as Record<string, unknown>;
  };
  const meta = () => {
    const p = params();
    if (!isObject(p._meta)) defineKey(p, '_meta', {});
    return p._meta as Record<string, unknown>;
  };
  switch (m.k) {
    case 'set': {
      const target =
        m.at === 'top' ? out : m.at === 'params' ? params() : m.at === 'meta' ? meta() : args(params());
      defineKey(target, m.key, clone(m.value));
      return out;
    }
    case 'delete': {
      const target = m.at === 'top' ? out : m.at === 'params' ? params() : meta();
      delete target[m.key];
      return out;
    }
    case 'caseKey': {
      if (!(m.key in out)) return out;
      const v = out[m.key];
      const variant = caseVariant(m.key, m.variant);
      // sometimes replace, sometimes keep both spellings
      if (m.variant % 2) delete out[m.key];
      defineKey(out, variant, v);
      return out;
    }
    case 'method':
      defineKey(out, 'method', clone(m.value));
      return out;
  }
}

function args(p: Record<string, unknown>): Record<string, unknown> {
  if (!isObject(p.arguments)) defineKey(p, 'arguments', {});
  return p.arguments as Record<string, unknown>;
}

// ------------------------------------------------------------------------------------------
// Text and byte mutations (after serialisation)

export type TextMutation =
  /** A second spelling of an existing key, raw in the text (JSON.stringify cannot make one). */
  | {
      readonly k: 'dupKey';
      readonly at: 'top' | 'params' | 'meta' | 'args';
      readonly key: string;
      readonly value: unknown;
      readonly first: boolean;
      readonly escapeMask: number;
    }
  | { readonly k: 'truncate'; readonly at: number }
  | { readonly k: 'bytes'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly k: 'wrap'; readonly before: string; readonly after: string };

const MARK = '\u0001dup\u0001';

const INVALID_UTF8: ReadonlyArray<readonly number[]> = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf], // overlong "/"
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80], // UTF-16 surrogate encoded in UTF-8
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80], // lone continuation byte
  [0xe2, 0x82], // truncated sequence
  [0xf0, 0x9f, 0x92], // truncated emoji
  [0x00],
  [0xef, 0xbb, 0xbf], // BOM
];

const textMutationArb: fc.Arbitrary<TextMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        at: fc.constantFrom('top' as const, 'params' as const, 'meta' as const, 'args' as const),
        first: fc.boolean(),
        escapeMask: fc.oneof(fc.constant(0), fc.nat()),
        value: fc.oneof(
          fc.constantFrom('tools/list', 'initialize', 'ping', 'noargs', 'boom', 1, 'x', MODERN),
          weird,
        ),
      })
      .chain((r) => {
        const keys =
          r.at === 'top'
            ? ['method', 'id', 'jsonrpc', 'params']
            : r.at === 'params'
              ? ['name', 'uri', 'arguments', '_meta', 'cursor']
              : r.at === 'meta'
                ? [META_VERSION, META_CAPS, 'progressToken']
                : ['text', 'count'];
        return fc.constantFrom(...keys).map((key) => ({ k: 'dupKey' as const, ...r, key }));
      }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('bytes' as const),
      at: fc.nat(),
      bytes: fc.oneof(
        fc.constantFrom(...INVALID_UTF8),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('wrap' as const),
      before: fc.constantFrom('', ' ', '\ufeff', '\n\t', '[', '{"a":', 'null'),
      after: fc.constantFrom('', ' ', '\n', ']', '}', ',', '{}', ' x', '\u0000'),
    }),
  },
);

/** Writes `key` with some of its characters as \uXXXX escapes (same key to a JSON parser). */
export function escapeKey(key: string, mask: number): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    const escapeIt = mask !== 0 && (mask >> (i % 30)) & 1;
    if (escapeIt) {
      const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
      out += (mask >> 30) & 1 ? `\\u${hex.toUpperCase()}` : `\\u${hex}`;
    } else if (c === '"' || c === '\\') out += `\\${c}`;
    else if (c === '/' && mask & 0x40000000) out += '\\/';
    else out += c;
  }
  return `"${out}"`;
}

/** Applies the key-level text mutations that need the object (a marker key, replaced after stringify). */
function withDuplicate(
  msg: Record<string, unknown>,
  d: Extract<TextMutation, { k: 'dupKey' }>,
): { text: string; duplicated: boolean } {
  const out = clone(msg);
  let target: Record<string, unknown> = out;
  const unchanged = () => ({ text: JSON.stringify(out), duplicated: false });
  if (d.at !== 'top') {
    if (!isObject(out.params)) return unchanged();
    target = out.params;
    if (d.at === 'meta') {
      if (!isObject(target._meta)) return unchanged();
      target = target._meta;
    } else if (d.at === 'args') {
      if (!isObject(target.arguments)) return unchanged();
      target = target.arguments;
    }
  }
  const duplicated = Object.hasOwn(target, d.key);
  const entries = Object.entries(target);
  for (const k of Object.keys(target)) delete target[k];
  if (d.first) defineKey(target, MARK, d.value);
  for (const [k, v] of entries) defineKey(target, k, v);
  if (!d.first) defineKey(target, MARK, d.value);
  return {
    text: JSON.stringify(out).replace(JSON.stringify(MARK), escapeKey(d.key, d.escapeMask)),
    duplicated,
  };
}

const enc = new TextEncoder();

export function serialise(msg: unknown, muts: readonly TextMutation[]): Uint8Array {
  return serialiseWithInfo(msg, muts).bytes;
}

/** The bytes, and whether they hold a duplicate key (a second spelling of a key that exists). */
export function serialiseWithInfo(
  msg: unknown,
  muts: readonly TextMutation[],
): { bytes: Uint8Array; duplicated: boolean } {
  let text: string | undefined;
  let duplicated = false;
  const dup = muts.find((m): m is Extract<TextMutation, { k: 'dupKey' }> => m.k === 'dupKey');
  if (dup && isObject(msg)) ({ text, duplicated } = withDuplicate(msg, dup));
  let bytes: Uint8Array = enc.encode(text ?? JSON.stringify(msg) ?? 'undefined');
  for (const m of muts) {
    if (m.k === 'truncate') bytes = bytes.slice(0, bytes.length === 0 ? 0 : m.at % bytes.length);
    else if (m.k === 'bytes') {
      const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
      bytes = concat(bytes.slice(0, at), Uint8Array.from(m.bytes), bytes.slice(at));
    } else if (m.k === 'wrap') bytes = concat(enc.encode(m.before), bytes, enc.encode(m.after));
  }
  return { bytes, duplicated };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Headers

/** Characters a header value can carry on both faces (Headers and node:http refuse CR, LF, NUL, > 0xFF). */
const headerChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  )
  .map((c) => String.fromCharCode(c));
export const headerString = fc.string({ unit: headerChar, maxLength: 40 });

/** Past node:http's 16 KiB header limit sometimes (431 there; the fetch face has no limit). */
const longHeader = fc
  .record({ n: fc.integer({ min: 200, max: 20_000 }), sentinel: fc.boolean() })
  .map(({ n, sentinel }) => (sentinel ? `=?base64?${'QUFB'.repeat(Math.ceil(n / 4))}?=` : 'a'.repeat(n)));

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const sentinel = (s: string) => `=?base64?${b64(s)}?=`;

/** What a well-behaved 2026 client sends: plain when printable ASCII, else the base64 sentinel. */
export function encodeHeaderValue(value: string): string {
  const plain =
    /^[\x20-\x7e]*$/.test(value) &&
    value.trim() === value &&
    !(value.startsWith('=?base64?') && value.endsWith('?='));
  return plain && value !== '' ? value : sentinel(value);
}

/** A value for Mcp-Method / Mcp-Name: right, right-but-sentinel, malformed sentinel, wrong, or absent. */
const stdHeader = (right: unknown) => {
  // (String() of an object whose own "toString" is not a function throws: use JSON for objects)
  const r =
    typeof right === 'string'
      ? right
      : right === undefined
        ? undefined
        : typeof right === 'object'
          ? JSON.stringify(right)
          : String(right);
  const options: Array<fc.WeightedArbitrary<string | undefined>> = [
    { weight: 10, arbitrary: fc.constant(r === undefined ? undefined : encodeHeaderValue(r)) },
    // (a non-string body value has no right header: the encoded JSON text is as good as any)
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: headerString },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '=?base64?',
        '=?base64??=',
        '=?base64?=',
        '=?base64?@@@@?=',
        '=?base64?abc?=',
        '=?base64?YQ?=',
        '=?base64?YQ===?=',
        '=?base64?YWJj?=?=',
        '=?BASE64?dG9vbHMvbGlzdA==?=',
        '=?base64?dG9vbHMvbGlzdA==',
        ' =?base64?dG9vbHMvbGlzdA==?=',
        '=?base64?/w==?=', // 0xFF: not UTF-8
        '=?base64?wK8=?=', // overlong
        '=?base64?dG9vbHMvbGlzdAA=?=', // "tools/list\0"
        '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=',
        'tools/list',
        'initialize',
      ),
    },
    { weight: 1, arbitrary: anyString.map(sentinel) },
    { weight: 1, arbitrary: longHeader },
  ];
  if (r !== undefined) {
    options.push({ weight: 2, arbitrary: fc.constant(sentinel(r)) });
    options.push({ weight: 1, arbitrary: fc.constant(r.toUpperCase()) });
  }
  return fc.oneof(...options);
};

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'application/json; charset="utf-8"',
  'application/json; charset=utf8',
  'Application/JSON',
  ' application/json ',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=',
  'application/json;;',
  'application/json, text/plain',
  'application/jsonp',
  'application/json-rpc',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/*',
  '*/*',
  '',
];
const ACCEPTS = [
  'application/json, text/event-stream',
  'text/event-stream, application/json',
  'application/json',
  'text/event-stream',
  '*/*',
  'text/*',
  'application/*;q=0.1',
  'text/html',
  '',
  'TEXT/EVENT-STREAM',
];
const VERSIONS = [
  ...LEGACY_ERAS,
  MODERN,
  '2024-11-05',
  '2026-07-28 ',
  '2026-07-29',
  'latest',
  '',
  '2025-06-18, 2026-07-28',
];
const ORIGINS = [
  'http://localhost:3000',
  'http://127.0.0.1',
  'https://[::1]:8443',
  'https://evil.example',
  'null',
  'file://',
  'http://localhost.evil.example',
  'http://127.0.0.1.nip.io',
  'javascript:alert(1)',
  '',
];
const HOSTS = [
  '127.0.0.1:3000',
  'localhost',
  'LOCALHOST:1',
  '[::1]:80',
  '[::1]',
  '127.0.0.1:',
  'evil.example',
  '127.0.0.1.evil.example',
  'localhost:3000, evil.example',
  '',
  '::1',
];

export interface HeaderPlan {
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly version: string | undefined;
  readonly mcpMethod: string | undefined;
  readonly mcpName: string | undefined;
  readonly session: HeaderValue | undefined;
  readonly origin: string | undefined;
  readonly host: string | undefined;
  readonly extra: ReadonlyArray<readonly [string, string]>;
  readonly upper: boolean;
}

const pick = <T>(normal: T, variants: fc.Arbitrary<T>, weights: [number, number, number] = [10, 2, 1]) =>
  fc.oneof(
    { weight: weights[0], arbitrary: fc.constant(normal) },
    { weight: weights[1], arbitrary: variants },
    { weight: weights[2], arbitrary: fc.constant(undefined as T) },
  );

const EXTRA_NAMES = [
  'mcp-session-id',
  'mcp-method',
  'mcp-name',
  'mcp-protocol-version',
  'last-event-id',
  'mcp-param-text',
  'x-forwarded-host',
  'content-encoding',
  'x-junk',
  'authorization',
  'expect',
  'accept-encoding',
];

/** Half the time the headers a correct client sends; otherwise each header may be perturbed. */
export const headerPlan = (d: Draft | undefined): fc.Arbitrary<HeaderPlan> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(normalPlan(d)) }, { weight: 1, arbitrary: perturbedPlan(d) });

function normalPlan(d: Draft | undefined): HeaderPlan {
  const modern = d?.era === MODERN;
  return {
    contentType: 'application/json',
    accept: 'application/json, text/event-stream',
    version: d === undefined ? undefined : modern || d.era !== '2025-03-26' ? d.era : undefined,
    mcpMethod: modern && d?.mcpMethod !== undefined ? encodeHeaderValue(d.mcpMethod) : undefined,
    mcpName: modern && typeof d?.mcpName === 'string' ? encodeHeaderValue(d.mcpName) : undefined,
    session: d?.session === undefined || d.msg.method === 'initialize' ? undefined : { session: d.session },
    origin: undefined,
    host: undefined,
    extra: [],
    upper: false,
  };
}

const perturbedPlan = (d: Draft | undefined): fc.Arbitrary<HeaderPlan> => {
  const modern = d?.era === MODERN;
  const versionNormal = d === undefined ? undefined : modern || d.era !== '2025-03-26' ? d.era : undefined;
  const sessionNormal: HeaderValue | undefined =
    d?.session === undefined || d.msg.method === 'initialize' ? undefined : { session: d.session };
  return fc.record({
    contentType: pick<string | undefined>(
      'application/json',
      fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerString),
      [12, 2, 1],
    ),
    accept: pick<string | undefined>(
      'application/json, text/event-stream',
      fc.oneof(fc.constantFrom(...ACCEPTS), headerString),
      [8, 4, 2],
    ),
    version: pick<string | undefined>(
      versionNormal,
      fc.oneof(fc.constantFrom(...VERSIONS), headerString),
      [10, 2, 1],
    ),
    mcpMethod:
      d?.mcpMethod !== undefined && modern ? stdHeader(d.mcpMethod) : rarely(stdHeader(d?.mcpMethod), 6),
    mcpName:
      modern && d?.mcpName !== undefined ? stdHeader(d.mcpName) : rarely(stdHeader(d?.mcpName ?? 'echo'), 6),
    session: pick<HeaderValue | undefined>(
      sessionNormal,
      fc.oneof(
        fc.integer({ min: 0, max: POOL_SIZE - 1 }).map((session) => ({ session })),
        headerString,
        fc.constantFrom('0', 'x'.repeat(43), ' '),
        longHeader,
      ),
      [10, 2, 1],
    ),
    origin: rarely(fc.oneof(fc.constantFrom(...ORIGINS), headerString), 8),
    host: rarely(fc.oneof(fc.constantFrom(...HOSTS), headerString), 12),
    extra: fc.array(
      fc
        .tuple(fc.constantFrom(...EXTRA_NAMES), headerString)
        // node:http answers an unknown Expect itself (417): mostly send the one it passes on
        .map(([k, v]): [string, string] => [k, k === 'expect' && v.length % 4 ? '100-continue' : v]),
      { maxLength: 2 },
    ),
    upper: fc.boolean(),
  });
};

/** Values neither face can send (CR, LF, NUL, > 0xFF) become base64 sentinels. */
function headerSafe(v: HeaderValue): HeaderValue {
  return typeof v === 'string' && /[^\t\x20-\x7e\x80-\xff]/.test(v) ? sentinel(v) : v;
}

export function buildHeaders(plan: HeaderPlan, defaultHost: string): Array<[string, HeaderValue]> {
  const h: Array<[string, HeaderValue]> = [];
  const add = (name: string, value: HeaderValue | undefined) => {
    if (value !== undefined) h.push([plan.upper ? name.toUpperCase() : name, headerSafe(value)]);
  };
  add('Host', plan.host ?? defaultHost);
  add('Content-Type', plan.contentType);
  add('Accept', plan.accept);
  add('MCP-Protocol-Version', plan.version);
  add('Mcp-Method', plan.mcpMethod);
  add('Mcp-Name', plan.mcpName);
  add('Mcp-Session-Id', plan.session);
  add('Origin', plan.origin);
  for (const [k, v] of plan.extra) add(k, v);
  return h;
}

// ------------------------------------------------------------------------------------------
// Whole cases

/** Placeholder replaced by the runner with the Host of the server it talks to. */
export const DEFAULT_HOST = '127.0.0.1:3000';

const target = fc.constantFrom(
  'stateful' as const,
  'stateful' as const,
  'stateful' as const,
  'stateless' as const,
);
const chunksArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) },
);

/** A valid message of some era, mutated, with headers that mostly agree with it. */
const messageCase: fc.Arbitrary<FuzzCase> = draftArb.chain((d) =>
  fc
    .record({
      target,
      muts: fc.oneof(
        { weight: 1, arbitrary: fc.constant([] as Mutation[]) },
        { weight: 1, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
      ),
      text: fc.oneof(
        { weight: 5, arbitrary: fc.constant([] as TextMutation[]) },
        { weight: 3, arbitrary: fc.array(textMutationArb, { minLength: 1, maxLength: 2 }) },
      ),
      plan: headerPlan(d),
      chunks: chunksArb,
    })
    .map(({ target, muts, text, plan, chunks }) => {
      const msg = muts.reduce(mutate, d.msg);
      const label = `${d.era === MODERN ? 'modern' : 'legacy'}:${muts.length ? 'mutated' : 'valid'}${text.length ? `+${text.map((t) => t.k).join('+')}` : ''}`;
      const { bytes, duplicated } = serialiseWithInfo(msg, text);
      // With no byte-level damage, these bodies are ambiguous envelopes the server must refuse.
      let refuse: string | undefined;
      if (text.every((t) => t.k === 'dupKey')) {
        const dup = text[0];
        const extra = Object.keys(msg).find((k) => !MEMBERS.has(k));
        if (duplicated && dup?.k === 'dupKey')
          refuse = `duplicate key ${JSON.stringify(dup.key)} (${dup.at})`;
        else if (extra !== undefined) refuse = `unexpected member ${JSON.stringify(extra)}`;
      }
      return {
        target,
        method: 'POST',
        path: '/mcp',
        headers: buildHeaders(plan, DEFAULT_HOST),
        body: bytes,
        chunks,
        label,
        ...(refuse ? { refuse } : {}),
      };
    }),
);

/**
 * A valid message carrying a wide object (1-60 keys) in params, _meta or the tool arguments,
 * sometimes with one key repeated (plain or \u-escaped) anywhere in it: duplicate detection
 * must hold for big objects too, not only for the envelope.
 */
const WIDE = '\u0001wide\u0001';
const wideCase: fc.Arbitrary<FuzzCase> = draftArb.chain((d) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: 60 }),
      dup: fc.option(
        fc.record({ which: fc.nat(), pos: fc.nat(), escapeMask: fc.oneof(fc.constant(0), fc.nat()) }),
        {
          freq: 2,
        },
      ),
      where: fc.constantFrom('params' as const, 'meta' as const, 'args' as const),
      nest: fc.integer({ min: 0, max: 3 }),
      plan: headerPlan(d),
      target,
      chunks: chunksArb,
    })
    .map(({ n, dup, where, nest, plan, target, chunks }) => {
      const entries = Array.from({ length: n }, (_, i) => `"k${i}":${i}`);
      if (dup) entries.splice(dup.pos % (n + 1), 0, `${escapeKey(`k${dup.which % n}`, dup.escapeMask)}:-1`);
      let wide = `{${entries.join(',')}}`;
      for (let i = 0; i < nest; i++) wide = `{"n":${wide}}`;
      const msg = clone(d.msg);
      if (!isObject(msg.params)) defineKey(msg, 'params', {});
      let holder = msg.params as Record<string, unknown>;
      if (where === 'meta') holder = isObject(holder._meta) ? holder._meta : holder;
      else if (where === 'args') {
        if (!isObject(holder.arguments)) defineKey(holder, 'arguments', {});
        holder = holder.arguments as Record<string, unknown>;
      }
      defineKey(holder, 'wide', WIDE);
      const text = JSON.stringify(msg).replace(JSON.stringify(WIDE), wide);
      return {
        target,
        method: 'POST',
        path: '/mcp',
        headers: buildHeaders(plan, DEFAULT_HOST),
        body: enc.encode(text),
        chunks,
        label: `wide:${dup ? 'duplicate' : 'unique'}`,
        ...(dup ? { refuse: `duplicate key "k${dup.which % n}" in a ${n}-key object` } : {}),
      };
    }),
);

/** Batches: empty, mixed (requests, notifications, responses, junk), nested. */
const batchCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    items: fc.array(
      fc.oneof(
        draftArb.map((d) => d.msg),
        weird,
        draftArb.chain((d) => mutationArb.map((m) => mutate(d.msg, m))),
      ),
      {
        maxLength: 5,
      },
    ),
    nested: fc.constantFrom(0, 0, 0, 1, 2),
    head: draftArb,
    target,
    text: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as TextMutation[]) },
      { weight: 1, arbitrary: fc.array(textMutationArb, { maxLength: 1 }) },
    ),
    chunks: chunksArb,
  })
  .chain((r) => headerPlan(r.head).map((plan) => ({ ...r, plan })))
  .map(({ items, nested, head, target, text, plan, chunks }) => {
    let batch: unknown = head.msg.method === 'initialize' ? items : [head.msg, ...items];
    for (let i = 0; i < nested; i++) batch = [batch, ...(i ? [] : items.slice(0, 1))];
    return {
      target,
      method: 'POST',
      path: '/mcp',
      headers: buildHeaders(plan, DEFAULT_HOST),
      body: serialise(
        batch,
        text.filter((t) => t.k !== 'dupKey'),
      ),
      chunks,
      label: `batch:${(batch as unknown[]).length === 0 ? 'empty' : nested ? 'nested' : 'mixed'}`,
    };
  });

/** Bodies that are not JSON-RPC at all. */
const junkBody = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => enc.encode(s)),
  fc.json({ maxDepth: 4 }).map((s) => enc.encode(s)),
  fc
    .constantFrom(
      '',
      'null',
      '[]',
      '{}',
      '"x"',
      '1',
      'true',
      '[[]]',
      '[{}]',
      '{"jsonrpc":"2.0"}',
      '\ufeff{}',
      '{"a":1,"a":2}',
    )
    .map((s) => enc.encode(s)),
  deepValue.map((v) => enc.encode(JSON.stringify(v))),
  fc.integer({ min: 60, max: 5000 }).map((n) => enc.encode('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 5000 }).map((n) => enc.encode('['.repeat(n))),
  fc.integer({ min: 1, max: 2000 }).map((n) => enc.encode(`{"a":${'{"a":'.repeat(n)}1${'}'.repeat(n + 1)}`)),
);
const junkCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    body: junkBody,
    plan: headerPlan(undefined),
    target,
    chunks: chunksArb,
    head: fc.option(draftArb, { nil: undefined }),
  })
  .chain((r) => (r.head ? headerPlan(r.head).map((plan) => ({ ...r, plan })) : fc.constant(r)))
  .map(({ body, plan, target, chunks }) => ({
    target,
    method: 'POST',
    path: '/mcp',
    headers: buildHeaders(plan, DEFAULT_HOST),
    body,
    chunks,
    label: 'junk',
  }));

/**
 * A valid request padded (inside params, which servers ignore) to land within a few hundred
 * bytes of the body limit on either side; the padding is ASCII or multi-byte.
 */
const nearLimitCase: fc.Arbitrary<FuzzCase> = draftArb.chain((d) =>
  fc
    .record({
      delta: fc.integer({ min: -300, max: 300 }),
      unit: fc.constantFrom('x', 'é', '世', '💥', '\\u0000'),
      plan: headerPlan(d),
      target,
      chunks: chunksArb,
    })
    .map(({ delta, unit, plan, target, chunks }) => {
      const msg = clone(d.msg);
      if (!isObject(msg.params)) defineKey(msg, 'params', {});
      const params = msg.params as Record<string, unknown>;
      defineKey(params, 'pad', '');
      const baseBytes = enc.encode(JSON.stringify(msg)).length;
      const want = MAX_BODY + delta - baseBytes;
      const unitBytes = unit === '\\u0000' ? 6 : enc.encode(unit).length;
      const n = Math.max(0, Math.floor(want / unitBytes));
      const text = JSON.stringify(msg).replace(
        '"pad":""',
        `"pad":"${(unit === '\\u0000' ? '\\u0000' : unit).repeat(n)}"`,
      );
      return {
        target,
        method: 'POST',
        path: '/mcp',
        headers: buildHeaders(plan, DEFAULT_HOST),
        body: enc.encode(text),
        chunks,
        label: `near-limit:${delta < 0 ? 'under' : 'over'}`,
      };
    }),
);

/** GET / DELETE / PUT / OPTIONS / HEAD / PATCH, with and without sessions and bodies. */
const otherMethodCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'DELETE', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'PATCH'),
    head: draftArb,
    target,
    body: fc.option(
      fc.oneof(
        junkBody,
        draftArb.map((d) => enc.encode(JSON.stringify(d.msg))),
      ),
      { nil: null, freq: 3 },
    ),
    lastEventId: rarely(headerString, 4),
  })
  .chain((r) => headerPlan(r.head).map((plan) => ({ ...r, plan })))
  .map(({ method, target, body, plan, lastEventId, head }) => {
    // a GET stream wants text/event-stream and a live session most of the time
    const accept =
      method === 'GET' && plan.accept === 'application/json, text/event-stream'
        ? 'text/event-stream'
        : plan.accept;
    const session = plan.session ?? (head.session === undefined ? undefined : { session: head.session });
    const headers = buildHeaders({ ...plan, accept, session }, DEFAULT_HOST);
    if (lastEventId !== undefined) headers.push(['Last-Event-ID', lastEventId]);
    return {
      target,
      method,
      path: '/mcp',
      headers,
      body: method === 'GET' || method === 'HEAD' ? null : body,
      chunks: 0,
      label: `http:${method}`,
    };
  });

/** Paths around the endpoint: health checks, query strings, near misses. */
const pathCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    path: fc.constantFrom(
      '/healthz',
      '/readyz',
      '/mcp?x=1',
      '/mcp/',
      '/MCP',
      '/',
      '/mcp%00',
      '/healthz?probe=1',
      '//mcp',
      '/mcp#x',
    ),
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    head: draftArb,
    target,
  })
  .chain((r) => headerPlan(r.head).map((plan) => ({ ...r, plan })))
  .map(({ path, method, head, target, plan }) => ({
    target,
    method,
    path,
    headers: buildHeaders(plan, DEFAULT_HOST),
    body: method === 'GET' ? null : enc.encode(JSON.stringify(head.msg)),
    chunks: 0,
    label: `path:${path}`,
  }));

const anyCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 60, arbitrary: messageCase },
  { weight: 5, arbitrary: wideCase },
  { weight: 10, arbitrary: batchCase },
  { weight: 10, arbitrary: junkCase },
  { weight: 4, arbitrary: nearLimitCase },
  { weight: 12, arbitrary: otherMethodCase },
  { weight: 4, arbitrary: pathCase },
);

const abortArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('early' as const, 'body' as const, 'headers' as const) },
);

export const caseArb: fc.Arbitrary<FuzzCase> = fc
  .tuple(anyCase, abortArb)
  .map(([c, abort]) => (abort ? { ...c, abort, label: `${c.label}+abort-${abort}` } : c));

/** Over the socket only: raw bytes, duplicate header lines, chunked bodies split inside UTF-8 sequences. */
export const socketCaseArb: fc.Arbitrary<FuzzCase> = fc
  .record({
    base: caseArb,
    dupHeaders: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.tuple(
            fc.constantFrom(
              'Mcp-Method',
              'Mcp-Name',
              'MCP-Protocol-Version',
              'Mcp-Session-Id',
              'Accept',
              'Origin',
              'Content-Type',
              'Host',
            ),
            fc.oneof(
              headerString,
              fc.constantFrom('tools/list', '2026-07-28', 'application/json', '127.0.0.1'),
            ),
          ),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
    chunks: chunksArb,
  })
  .map(({ base, dupHeaders, chunks }) => ({
    ...base,
    headers: [...base.headers, ...dupHeaders],
    chunks: base.chunks || chunks,
    label: dupHeaders.length ? `${base.label}+dup-headers` : base.label,
  }));

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  ProtocolError,
  ResourceNotFoundError,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Client as Sdk1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Sdk1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createGangway, type Gangway } from '../../src/index.ts';
import {
  COLOR_ELICIT,
  everything,
  GREETING_ELICIT,
  ITEMS,
  PNG_BASE64,
  type Probe,
  STATIC_BLOB,
  STATIC_BLOB_URI,
  STATIC_TEXT,
  STATIC_TEXT_URI,
} from '../fixtures/everything.ts';

/**
 * Black-box: `@modelcontextprotocol/client` 2.x speaking 2026-07-28 (stateless, per-request
 * `_meta`, `input_required` round trips, `subscriptions/listen`) against a listening server.
 */

const MODERN = '2026-07-28';
/** What the user "types" into each form the server shows. */
const ANSWERS: Record<string, Record<string, string>> = {
  [GREETING_ELICIT.message]: { name: 'Ada' },
  [COLOR_ELICIT.message]: { color: 'teal' },
};

describe('@modelcontextprotocol/client 2.x at 2026-07-28', () => {
  let app: Gangway;
  let url: URL;
  let probe: Probe;
  let client: Client;
  /** Every elicitation/create the client's handler answered, in order. */
  const elicited: Array<{ message: string; schema: unknown }> = [];

  before(async () => {
    const fixture = everything();
    probe = fixture.probe;
    app = createGangway(fixture.config);
    url = new URL((await app.listen({ port: 0 })).url);

    client = new Client(
      { name: 'client2-test', version: '0.0.0' },
      { capabilities: { elicitation: {}, sampling: {} }, versionNegotiation: { mode: 'auto' } },
    );
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { message: string; requestedSchema?: unknown };
      elicited.push({ message: params.message, schema: params.requestedSchema });
      const content = ANSWERS[params.message];
      return content ? { action: 'accept', content } : { action: 'decline' };
    });
    client.setRequestHandler('sampling/createMessage', async (request) => {
      const first = request.params.messages[0]!.content as { type: string; text: string };
      return {
        role: 'assistant',
        model: 'test-model',
        content: { type: 'text', text: first.text === 'Capital of France?' ? 'Paris' : '?' },
      };
    });
    await client.connect(new StreamableHTTPClientTransport(url));
  });
  after(async () => {
    await client.close();
    await app.close();
  });

  it('discovers the server (server/discover) and speaks 2026-07-28', async () => {
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(client.getServerVersion()?.name, 'everything');
    const discover = await client.discover();
    assert.ok(discover.supportedVersions.includes(MODERN));
    assert.ok(discover.capabilities.tools);
    assert.equal(discover.capabilities.resources?.subscribe, true);
    assert.ok(discover.capabilities.prompts);
    assert.ok(discover.capabilities.completions);
    assert.equal(discover.instructions, 'A fixture server for client tests.');
  });

  it('lists tools, resources, templates and prompts', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['echo', 'add', 'progress', 'log', 'greet_user', 'profile', 'ask_model', 'fail', 'slow'],
    );
    const echo = tools.find((t) => t.name === 'echo')!;
    assert.equal(echo.title, 'Echo');
    assert.equal(echo.annotations?.readOnlyHint, true);
    assert.equal(tools.find((t) => t.name === 'add')!.outputSchema?.type, 'object');

    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri),
      [STATIC_TEXT_URI, STATIC_BLOB_URI],
    );
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(
      resourceTemplates.map((t) => t.uriTemplate),
      ['test://items/{id}'],
    );
    const { prompts } = await client.listPrompts();
    assert.deepEqual(
      prompts.map((p) => p.name),
      ['greeting', 'item_review'],
    );
  });

  it('calls tools: plain text, structured output and a tool error', async () => {
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'héllo, 世界' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'héllo, 世界' }]);

    const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(add.structuredContent, { sum: 42 });
    assert.deepEqual(add.content, [{ type: 'text', text: '{"sum":42}' }]);

    const fail = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(fail.isError, true);
    assert.deepEqual(fail.content, [{ type: 'text', text: 'Merchant not found' }]);

    const invalid = await client.callTool({ name: 'echo', arguments: { text: 7 } });
    assert.equal(invalid.isError, true, 'input validation failures are tool errors (SEP-1303)');
  });

  it('reads static, binary and templated resources; unknown ones are not found', async () => {
    const text = await client.readResource({ uri: STATIC_TEXT_URI });
    assert.deepEqual(text.contents, [{ uri: STATIC_TEXT_URI, mimeType: 'text/plain', text: STATIC_TEXT }]);
    const blob = await client.readResource({ uri: STATIC_BLOB_URI });
    assert.deepEqual(
      new Uint8Array(Buffer.from((blob.contents[0] as { blob: string }).blob, 'base64')),
      STATIC_BLOB,
    );

    const item = await client.readResource({ uri: 'test://items/apricot' });
    assert.equal(item.contents[0]!.mimeType, 'application/json');
    assert.deepEqual(JSON.parse(String((item.contents[0] as { text: string }).text)), {
      id: 'apricot',
      ...ITEMS.apricot,
    });

    // A non-ASCII URI travels in Mcp-Name as =?base64?...?=; the server must decode it to match.
    for (const uri of ['test://items/cherry', 'test://items/crème']) {
      const err = await client.readResource({ uri }).then(
        () => assert.fail(`${uri} must not be read`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ResourceNotFoundError, String(err));
      assert.equal(err.code, -32602);
    }
  });

  it('gets prompts with arguments', async () => {
    const greeting = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ada' } });
    assert.deepEqual(greeting.messages, [
      { role: 'user', content: { type: 'text', text: 'Please greet Ada in a casual way.' } },
    ]);
    const review = await client.getPrompt({ name: 'item_review', arguments: { id: 'apple' } });
    assert.deepEqual(
      review.messages.map((m) => m.content.type),
      ['text', 'image', 'resource'],
    );
    assert.deepEqual(review.messages[1]!.content, { type: 'image', data: PNG_BASE64, mimeType: 'image/png' });
  });

  it('completes a template variable and a prompt argument', async () => {
    const ids = await client.complete({
      ref: { type: 'ref/resource', uri: 'test://items/{id}' },
      argument: { name: 'id', value: 'b' },
    });
    assert.deepEqual(ids.completion.values, ['banana']);
    const style = await client.complete({
      ref: { type: 'ref/prompt', name: 'greeting' },
      argument: { name: 'style', value: 'c' },
      context: { arguments: { name: 'Ada' } },
    });
    assert.deepEqual(style.completion.values, ['casual']);
  });

  it('streams progress notifications before the result', async () => {
    const seen: Array<{ progress: number; total?: number }> = [];
    const result = await client.callTool(
      { name: 'progress', arguments: { steps: 4 } },
      {
        onprogress: (p) => seen.push({ progress: p.progress, total: p.total }),
      },
    );
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 4' }]);
    assert.deepEqual(
      seen,
      [1, 2, 3, 4].map((progress) => ({ progress, total: 4 })),
    );
  });

  it('sends log messages only to a request that opts in with _meta logLevel', async () => {
    const seen: Array<{ level: string; data: unknown }> = [];
    client.setNotificationHandler('notifications/message', (n) => {
      seen.push({ level: n.params.level, data: n.params.data });
    });
    await client.callTool({ name: 'log', arguments: {} });
    assert.deepEqual(seen, [], 'no logLevel in _meta: no messages');

    const result = await client.callTool({
      name: 'log',
      arguments: {},
      _meta: { 'io.modelcontextprotocol/logLevel': 'info' },
    });
    assert.deepEqual(result.content, [{ type: 'text', text: 'logged' }]);
    assert.deepEqual(seen, [
      { level: 'info', data: { note: 'info message' } },
      { level: 'error', data: { note: 'error message' } },
    ]);
  });

  it('elicits through input_required: the handler runs again with the answer', async () => {
    elicited.length = 0;
    const runs = probe.count('greet_user:run');
    const answered = probe.next('greet_user:answer');
    const result = await client.callTool({ name: 'greet_user', arguments: {} });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
    assert.equal(probe.count('greet_user:run') - runs, 2, 'first run asks, the retry answers');
    assert.deepEqual((await answered).detail, { action: 'accept', content: { name: 'Ada' } });
    assert.deepEqual(elicited, [
      { message: GREETING_ELICIT.message, schema: GREETING_ELICIT.requestedSchema },
    ]);
  });

  it('carries earlier answers in requestState across two rounds', async () => {
    elicited.length = 0;
    const runs = probe.count('profile:run');
    const result = await client.callTool({ name: 'profile', arguments: {} });
    // The client resends only the latest round's answer; "Ada" can only come back via requestState.
    assert.deepEqual(result.content, [{ type: 'text', text: 'Ada likes teal' }]);
    assert.deepEqual(
      elicited.map((e) => e.message),
      [GREETING_ELICIT.message, COLOR_ELICIT.message],
      'each question was asked exactly once',
    );
    assert.equal(probe.count('profile:run') - runs, 3);
  });

  it('refuses to elicit from a client that did not declare elicitation (-32021)', async () => {
    const bare = new Client(
      { name: 'client2-bare', version: '0.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await bare.connect(new StreamableHTTPClientTransport(url));
    try {
      assert.equal(bare.getNegotiatedProtocolVersion(), MODERN);
      const runs = probe.count('greet_user:answer');
      const err = await bare.callTool({ name: 'greet_user', arguments: {} }).then(
        () => assert.fail('a client without elicitation cannot be asked'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ProtocolError, String(err));
      assert.equal(err.code, -32021);
      assert.deepEqual(err.data, { requiredCapabilities: { elicitation: {} } });
      assert.equal(probe.count('greet_user:answer'), runs);
    } finally {
      await bare.close();
    }
  });

  it('samples through input_required', async () => {
    const result = await client.callTool({
      name: 'ask_model',
      arguments: { question: 'Capital of France?' },
    });
    assert.deepEqual(result.content, [{ type: 'text', text: 'test-model says: Paris' }]);
  });

  it('receives resources/updated on a subscriptions/listen stream', async () => {
    const updated: string[] = [];
    let notify!: () => void;
    const arrived = new Promise<void>((resolve) => (notify = resolve));
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      updated.push(n.params.uri);
      notify();
    });
    const subscription = await client.listen({ resourceSubscriptions: [STATIC_TEXT_URI] });
    assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: [STATIC_TEXT_URI] });

    assert.equal(app.notifyResourceUpdated(STATIC_BLOB_URI), 0, 'not subscribed to the blob');
    assert.equal(app.notifyResourceUpdated(STATIC_TEXT_URI), 1);
    await arrived;
    assert.deepEqual(updated, [STATIC_TEXT_URI]);

    await subscription.close();
    assert.equal(await subscription.closed, 'local');
    // Closing the stream unsubscribes on the server too.
    for (let i = 0; i < 200 && app.notifyResourceUpdated(STATIC_TEXT_URI) > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(app.notifyResourceUpdated(STATIC_TEXT_URI), 0);
  });

  it("aborting a call closes its stream, which aborts the handler's ctx.signal", async () => {
    const controller = new AbortController();
    const started = probe.next('slow:start');
    const aborted = probe.next('slow:aborted');
    const call = client.callTool({ name: 'slow', arguments: {} }, { signal: controller.signal });
    await started;
    controller.abort();
    await assert.rejects(call);
    assert.ok((await aborted).detail instanceof Error);
  });

  it('serves an SDK 1.x (2025) client at the same time', async () => {
    const legacy = new Sdk1Client({ name: 'sdk1-alongside', version: '0.0.0' });
    const transport = new Sdk1Transport(url);
    await legacy.connect(transport);
    try {
      assert.equal(transport.protocolVersion, '2025-11-25');
      assert.ok(transport.sessionId);
      const [modern, old, modernList, oldList] = await Promise.all([
        client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }),
        legacy.callTool({ name: 'add', arguments: { a: 3, b: 4 } }),
        client.listTools(),
        legacy.listTools(),
      ]);
      assert.deepEqual(modern.structuredContent, { sum: 3 });
      assert.deepEqual(old.structuredContent, { sum: 7 });
      assert.deepEqual(
        modernList.tools.map((t) => t.name),
        oldList.tools.map((t) => t.name),
      );
      // And the modern client still works after the legacy one has a session.
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'both' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'both' }]);
    } finally {
      await transport.terminateSession();
      await legacy.close();
    }
  });
});

describe('@modelcontextprotocol/client 2.x: server shutdown', () => {
  let app: Gangway;
  let client: Client;

  before(async () => {
    app = createGangway(everything().config);
    const url = new URL((await app.listen({ port: 0 })).url);
    client = new Client(
      { name: 'client2-shutdown', version: '0.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(new StreamableHTTPClientTransport(url));
  });
  after(async () => {
    await client.close();
    await app.close();
  });

  it('ends open subscriptions/listen streams gracefully (with the listen result)', async () => {
    const subscription = await client.listen({ resourceSubscriptions: [STATIC_TEXT_URI] });
    await app.close();
    assert.equal(await subscription.closed, 'graceful');
  });
});

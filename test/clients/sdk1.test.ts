import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type JSONRPCMessage,
  LoggingMessageNotificationSchema,
  McpError,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createGangway, type Gangway } from '../../src/index.ts';
import {
  everything,
  ITEMS,
  PNG_BASE64,
  type Probe,
  STATIC_BLOB,
  STATIC_BLOB_URI,
  STATIC_TEXT,
  STATIC_TEXT_URI,
} from '../fixtures/everything.ts';
import { eventually } from '../helpers/eventually.ts';

/**
 * Black-box: the official SDK 1.x client (2025 eras) against a listening Gangway server.
 * The SDK always asks for its newest version in `initialize`; PinnedTransport rewrites that
 * one field so each era is exercised exactly as a client of that revision would speak it.
 */
class PinnedTransport extends StreamableHTTPClientTransport {
  constructor(
    url: URL,
    private readonly version: string,
    opts?: ConstructorParameters<typeof StreamableHTTPClientTransport>[1],
  ) {
    super(url, opts);
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('method' in message && message.method === 'initialize' && 'id' in message) {
      message = { ...message, params: { ...message.params, protocolVersion: this.version } };
    }
    return super.send(message, options);
  }
}

const ERAS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;

function newClient(): Client {
  return new Client(
    { name: 'sdk1-test', version: '0.0.0' },
    { capabilities: { elicitation: {}, sampling: {} } },
  );
}

describe('SDK 1.x client against a listening server', () => {
  let app: Gangway;
  let url: URL;
  let probe: Probe;

  before(async () => {
    const fixture = everything();
    probe = fixture.probe;
    app = createGangway(fixture.config);
    url = new URL((await app.listen({ port: 0 })).url);
  });
  after(() => app.close());

  for (const version of ERAS) {
    const structured = version !== '2025-03-26';
    const elicitation = version !== '2025-03-26';

    describe(`at ${version}`, () => {
      let client: Client;
      let transport: PinnedTransport;

      before(async () => {
        client = newClient();
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          assert.equal(request.params.message, 'What is your name?');
          return { action: 'accept', content: { name: 'Ada' } };
        });
        client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
          const first = request.params.messages[0]!.content as { type: string; text: string };
          return {
            role: 'assistant',
            model: 'test-model',
            content: { type: 'text', text: first.text === 'Capital of France?' ? 'Paris' : '?' },
          };
        });
        transport = new PinnedTransport(url, version);
        await client.connect(transport);
      });
      after(() => client.close());

      it('negotiates the requested version and advertises what the server offers', () => {
        assert.equal(transport.protocolVersion, version);
        assert.ok(transport.sessionId, 'a session id was issued');
        assert.equal(client.getServerVersion()?.name, 'everything');
        assert.equal(client.getInstructions(), 'A fixture server for client tests.');
        const caps = client.getServerCapabilities();
        assert.ok(caps?.tools);
        assert.equal(caps?.resources?.subscribe, true);
        assert.ok(caps?.prompts);
        assert.ok(caps?.completions);
        assert.ok(caps?.logging);
      });

      it('answers ping', async () => {
        assert.deepEqual(await client.ping(), {});
      });

      it('lists tools with the fields this era knows', async () => {
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name),
          ['echo', 'add', 'progress', 'log', 'greet_user', 'profile', 'ask_model', 'fail', 'slow'],
        );
        const echo = tools.find((t) => t.name === 'echo')!;
        const add = tools.find((t) => t.name === 'add')!;
        assert.deepEqual(echo.inputSchema.required, ['text']);
        assert.equal(echo.annotations?.readOnlyHint, true);
        if (structured) {
          assert.equal(echo.title, 'Echo');
          assert.equal(add.outputSchema?.type, 'object');
        } else {
          assert.equal(echo.title, undefined);
          assert.equal(add.outputSchema, undefined);
        }
      });

      it('lists resources, templates and prompts', async () => {
        const { resources } = await client.listResources();
        assert.deepEqual(
          resources.map((r) => [r.uri, r.mimeType]),
          [
            [STATIC_TEXT_URI, 'text/plain'],
            [STATIC_BLOB_URI, 'application/octet-stream'],
          ],
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
        assert.deepEqual(
          prompts[0]!.arguments?.map((a) => [a.name, a.required ?? false]),
          [
            ['name', true],
            ['style', false],
          ],
        );
      });

      it('calls a tool', async () => {
        const result = await client.callTool({ name: 'echo', arguments: { text: 'hi there' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'hi there' }]);
        assert.notEqual(result.isError, true);
      });

      it('returns structured output where the era has it (and its text form everywhere)', async () => {
        await client.listTools(); // the client validates structuredContent against the cached outputSchema
        const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
        assert.deepEqual(result.content, [{ type: 'text', text: '{"sum":5}' }]);
        if (structured) assert.deepEqual(result.structuredContent, { sum: 5 });
        else assert.equal(result.structuredContent, undefined);
      });

      it('reports a ToolError as an isError result, and bad arguments as an error', async () => {
        const result = await client.callTool({ name: 'fail', arguments: {} });
        assert.equal(result.isError, true);
        assert.deepEqual(result.content, [{ type: 'text', text: 'Merchant not found' }]);

        const unknown = await client.callTool({ name: 'nope', arguments: {} }).then(
          () => assert.fail('an unknown tool must not succeed'),
          (err: unknown) => err,
        );
        assert.ok(unknown instanceof McpError);
        assert.equal(unknown.code, -32602);
      });

      it(`reports invalid arguments as ${version === '2025-11-25' ? 'an isError result (SEP-1303)' : 'a -32602 error'}`, async () => {
        const call = client.callTool({ name: 'echo', arguments: { text: 42 } });
        if (version === '2025-11-25') {
          const result = await call;
          assert.equal(result.isError, true);
          assert.match(
            (result.content as Array<{ text: string }>)[0]!.text,
            /Invalid arguments for tool echo/,
          );
        } else {
          const err = await call.then(
            () => assert.fail('invalid arguments must not succeed'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof McpError);
          assert.equal(err.code, -32602);
        }
      });

      it('reads static text and binary resources', async () => {
        const text = await client.readResource({ uri: STATIC_TEXT_URI });
        assert.deepEqual(text.contents, [
          { uri: STATIC_TEXT_URI, mimeType: 'text/plain', text: STATIC_TEXT },
        ]);
        const blob = await client.readResource({ uri: STATIC_BLOB_URI });
        const content = blob.contents[0] as { blob: string; mimeType: string };
        assert.equal(content.mimeType, 'application/octet-stream');
        assert.deepEqual(new Uint8Array(Buffer.from(content.blob, 'base64')), STATIC_BLOB);
      });

      it('reads a templated resource, and reports an unknown one as not found (-32002)', async () => {
        const { contents } = await client.readResource({ uri: 'test://items/apple' });
        assert.equal(contents.length, 1);
        assert.equal(contents[0]!.uri, 'test://items/apple');
        assert.equal(contents[0]!.mimeType, 'application/json');
        assert.deepEqual(JSON.parse((contents[0] as { text: string }).text), { id: 'apple', ...ITEMS.apple });

        const err = await client.readResource({ uri: 'test://items/cherry' }).then(
          () => assert.fail('an unknown item must not be read'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof McpError);
        assert.equal(err.code, -32002);
      });

      it('gets prompts with arguments: text, image and embedded resource messages', async () => {
        const greeting = await client.getPrompt({
          name: 'greeting',
          arguments: { name: 'Ada', style: 'formal' },
        });
        assert.deepEqual(greeting.messages, [
          { role: 'user', content: { type: 'text', text: 'Please greet Ada in a formal way.' } },
        ]);

        const review = await client.getPrompt({ name: 'item_review', arguments: { id: 'banana' } });
        assert.equal(review.description, 'Review of banana');
        assert.deepEqual(
          review.messages.map((m) => m.content.type),
          ['text', 'image', 'resource'],
        );
        assert.deepEqual(review.messages[1]!.content, {
          type: 'image',
          data: PNG_BASE64,
          mimeType: 'image/png',
        });
        const embedded = review.messages[2]!.content as { resource: { uri: string; text: string } };
        assert.equal(embedded.resource.uri, 'test://items/banana');
        assert.deepEqual(JSON.parse(embedded.resource.text), ITEMS.banana);

        const missing = await client.getPrompt({ name: 'greeting', arguments: {} }).then(
          () => assert.fail('a missing required argument must be refused'),
          (e: unknown) => e,
        );
        assert.ok(missing instanceof McpError);
        assert.equal(missing.code, -32602);
      });

      it('completes template variables and prompt arguments', async () => {
        const items = await client.complete({
          ref: { type: 'ref/resource', uri: 'test://items/{id}' },
          argument: { name: 'id', value: 'ap' },
        });
        assert.deepEqual(items.completion.values, ['apple', 'apricot']);
        assert.equal(items.completion.hasMore, false);

        const style = await client.complete({
          ref: { type: 'ref/prompt', name: 'greeting' },
          argument: { name: 'style', value: 'f' },
        });
        assert.deepEqual(style.completion.values, ['formal']);
      });

      it('streams progress notifications over SSE before the result', async () => {
        const seen: Array<{ progress: number; total?: number; message?: string }> = [];
        const result = await client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, {
          onprogress: (p) => seen.push(p),
        });
        assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 3' }]);
        assert.deepEqual(seen, [
          { progress: 1, total: 3, message: 'step 1 of 3' },
          { progress: 2, total: 3, message: 'step 2 of 3' },
          { progress: 3, total: 3, message: 'step 3 of 3' },
        ]);
      });

      it('sends log messages at or above the level the client set', async () => {
        const seen: Array<{ level: string; data: unknown }> = [];
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
          seen.push({ level: n.params.level, data: n.params.data });
        });
        await client.callTool({ name: 'log', arguments: {} });
        assert.deepEqual(seen, [], 'nothing before logging/setLevel');

        await client.setLoggingLevel('info');
        const result = await client.callTool({ name: 'log', arguments: {} });
        assert.deepEqual(result.content, [{ type: 'text', text: 'logged' }]);
        assert.deepEqual(seen, [
          { level: 'info', data: { note: 'info message' } },
          { level: 'error', data: { note: 'error message' } },
        ]);
      });

      it('samples through the client (sampling/createMessage over the stream)', async () => {
        const result = await client.callTool({
          name: 'ask_model',
          arguments: { question: 'Capital of France?' },
        });
        assert.deepEqual(result.content, [{ type: 'text', text: 'test-model says: Paris' }]);
      });

      if (elicitation) {
        it("elicits from the user through the client's elicitation handler", async () => {
          const result = await client.callTool({ name: 'greet_user', arguments: {} });
          assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
          assert.notEqual(result.isError, true);
        });
      } else {
        it('does not elicit: the era has no elicitation, the tool reports it as an error', async () => {
          const runs = probe.count('greet_user:answer');
          const result = await client.callTool({ name: 'greet_user', arguments: {} });
          assert.equal(result.isError, true);
          assert.match((result.content as Array<{ text: string }>)[0]!.text, /elicitation/);
          assert.equal(probe.count('greet_user:answer'), runs, 'the handler never got an answer');
        });
      }

      it('delivers resources/updated on the GET stream after resources/subscribe', async () => {
        const updated: string[] = [];
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          updated.push(n.params.uri);
        });
        await client.subscribeResource({ uri: STATIC_TEXT_URI });
        // The SDK opens its GET stream in the background after connect; wait until it is there.
        await eventually(() => app.notifyResourceUpdated(STATIC_TEXT_URI) > 0);
        await eventually(() => updated.length > 0);
        assert.deepEqual(updated, [STATIC_TEXT_URI]);
        assert.equal(app.notifyResourceUpdated(STATIC_BLOB_URI), 0, 'no one subscribed to the blob');

        await client.unsubscribeResource({ uri: STATIC_TEXT_URI });
        assert.equal(app.notifyResourceUpdated(STATIC_TEXT_URI), 0, 'unsubscribed');
      });

      it("cancelling the call (abort signal) aborts the handler's ctx.signal", async () => {
        const controller = new AbortController();
        const started = probe.next('slow:start');
        const aborted = probe.next('slow:aborted');
        const call = client.callTool({ name: 'slow', arguments: {} }, undefined, {
          signal: controller.signal,
        });
        await started;
        controller.abort('user pressed stop');
        await assert.rejects(call);
        const event = await aborted;
        assert.ok(event.detail instanceof Error, 'the handler sees why it was aborted');
        // The session is still usable afterwards.
        const echo = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
        assert.deepEqual(echo.content, [{ type: 'text', text: 'still here' }]);
      });

      it('ends the session on DELETE; the old session id then gets 404', async () => {
        const oldId = transport.sessionId!;
        await transport.terminateSession();
        assert.equal(transport.sessionId, undefined);

        const stale = newClient();
        const staleTransport = new StreamableHTTPClientTransport(url, { sessionId: oldId });
        await stale.connect(staleTransport); // an existing session id: the SDK skips initialize
        const err = await stale.listTools().then(
          () => assert.fail('a terminated session must not be served'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof StreamableHTTPError, String(err));
        assert.equal(err.code, 404);
        await stale.close();
      });
    });
  }
});

describe('SDK 1.x client against a stateless server', () => {
  let app: Gangway;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  before(async () => {
    const { config } = everything({ http: { port: 0, stateless: true } });
    app = createGangway(config);
    const url = new URL((await app.listen({ port: 0 })).url);
    client = newClient();
    transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
  });
  after(async () => {
    await client.close();
    await app.close();
  });

  it('connects without a session', () => {
    assert.equal(transport.sessionId, undefined);
    assert.equal(transport.protocolVersion, '2025-11-25');
    assert.equal(client.getServerVersion()?.name, 'everything');
  });

  it('lists, calls, reads and gets prompts', async () => {
    const { tools } = await client.listTools();
    assert.equal(tools.length, 9);
    const add = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    assert.deepEqual(add.structuredContent, { sum: 42 });
    const item = await client.readResource({ uri: 'test://items/banana' });
    assert.deepEqual(JSON.parse((item.contents[0] as { text: string }).text), {
      id: 'banana',
      ...ITEMS.banana,
    });
    const prompt = await client.getPrompt({ name: 'greeting', arguments: { name: 'Bo' } });
    assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Please greet Bo in a casual way.' });
  });

  it('streams progress without a session', async () => {
    const seen: number[] = [];
    const result = await client.callTool({ name: 'progress', arguments: { steps: 2 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 2' }]);
    assert.deepEqual(seen, [1, 2]);
  });

  it('cannot elicit without a session: the tool says so', async () => {
    const result = await client.callTool({ name: 'greet_user', arguments: {} });
    assert.equal(result.isError, true);
  });
});

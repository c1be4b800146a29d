import {
  createGangway,
  defineConfig,
  definePrompt,
  defineResource,
  defineResourceTemplate,
  defineTool,
  type Gangway,
  type GangwayConfig,
  type HandlerContext,
  ToolError,
} from '../../src/index.ts';
import { MemoryEphemeral } from '../../src/store/index.ts';

/** Body limit of the fuzz servers: small, so bodies "near the limit" stay cheap. */
export const MAX_BODY = 64 * 1024;

export const RESOURCE_URI = 'file:///fixture/readme.txt';
export const TEMPLATE = 'fixture://items/{id}';

const TOPIC = { type: 'object', properties: { topic: { type: 'string' } } };

async function askThree(_args: unknown, ctx: HandlerContext) {
  const [answer, message] = await Promise.all([
    ctx.elicit({ message: 'Proceed?', requestedSchema: { type: 'object', properties: {} } }, 'confirm'),
    ctx.sample(
      { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 },
      'model',
    ),
  ]);
  const { roots } = await ctx.roots('roots');
  return { action: answer.action, role: String(message.role), roots: roots.length };
}

/**
 * A small server with one of everything the wire can reach: a tool with an input and an output
 * schema, tools without arguments, a tool that streams (log + progress), one that asks the user
 * (elicitation: a live SSE request in 2025 eras, input_required in 2026), one that throws an
 * unexpected error and one that throws a ToolError; a static resource, a template with a
 * completer, and a prompt with a required argument and a completer.
 */
export function fixtureServer(options: { stateless: boolean; logger?: GangwayConfig['logger'] }): Gangway {
  return createGangway(
    defineConfig({
      name: 'fuzz-fixture',
      version: '1.0.0',
      instructions: 'fuzz fixture',
      store: 'memory',
      // Sessions shared and re-read on every request: the multi-process path (load, messages,
      // forwarded answers) takes the fuzz, as the single-process one does in every other test.
      ephemeral: new MemoryEphemeral(),
      logger: options.logger ?? { level: 'silent' },
      http: { maxBodyBytes: MAX_BODY, stateless: options.stateless, requestTimeoutMs: 2_000, drainMs: 200, sessions: { shared: true, revalidateMs: 0 } },
      tools: [
        defineTool<{ text: string; count?: number }>({
          name: 'echo',
          description: 'Echoes its text',
          input: {
            type: 'object',
            properties: {
              text: { type: 'string', maxLength: 1000 },
              count: { type: 'integer', minimum: 0, maximum: 10 },
            },
            required: ['text'],
            additionalProperties: false,
          },
          output: {
            type: 'object',
            properties: { text: { type: 'string' }, count: { type: 'integer' } },
            required: ['text'],
          },
          handler: ({ text, count }) => ({ text, count: count ?? 1 }),
        }),
        defineTool({ name: 'noargs', handler: () => 'pong' }),
        defineTool({
          name: 'chatty',
          handler: async (_args, ctx) => {
            ctx.log('info', { step: 1 }, 'fixture');
            ctx.progress(1, 2, 'half');
            await new Promise((r) => setImmediate(r));
            ctx.log('error', 'almost done');
            ctx.progress(2, 2);
            return 'done';
          },
        }),
        defineTool({
          name: 'ask',
          timeoutMs: 25,
          handler: async (_args, ctx) => {
            const answer = await ctx.elicit(
              {
                message: 'Proceed?',
                requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
              },
              'confirm',
            );
            return { action: String(answer?.action) };
          },
        }),
        // three questions: two asked together (one input_required round in 2026, two live
        // requests on the stream in 2025), then one more. "survey" gives up fast (random cases
        // call it and nobody answers); "interview" waits for the dialogues' answers.
        defineTool({ name: 'survey', timeoutMs: 150, input: TOPIC, handler: askThree }),
        defineTool({ name: 'interview', timeoutMs: 2_000, input: TOPIC, handler: askThree }),
        defineTool({
          name: 'boom',
          handler: () => {
            throw new Error('secret internal detail');
          },
        }),
        defineTool({
          name: 'fail',
          handler: () => {
            throw new ToolError('Merchant not found');
          },
        }),
      ],
      resources: [
        defineResource({
          uri: RESOURCE_URI,
          name: 'readme',
          mimeType: 'text/plain',
          read: () => 'hello from the fixture',
        }),
      ],
      resourceTemplates: [
        defineResourceTemplate({
          uriTemplate: TEMPLATE,
          name: 'item',
          mimeType: 'application/json',
          complete: { id: (value) => ['1', '2', '42'].filter((v) => v.startsWith(value)) },
          read: (uri, vars) => (vars.id === 'missing' ? null : JSON.stringify({ uri, id: vars.id })),
        }),
      ],
      prompts: [
        definePrompt({
          name: 'greet',
          description: 'Greets someone',
          arguments: [
            {
              name: 'name',
              required: true,
              complete: (value) => ['Ada', 'Alan'].filter((v) => v.startsWith(value)),
            },
            { name: 'tone' },
          ],
          get: ({ name, tone }) => `Say hello to ${name}${tone ? ` in a ${tone} tone` : ''}.`,
        }),
      ],
    }),
  );
}

import { definePrompt, defineTool, type HandlerContext } from 'gangway';

/**
 * 2026-07-28 multi round-trip requests (SEP-2322, input-required-result-* scenarios) and the
 * server-stateless diagnostics. A handler simply awaits ctx.elicit / ctx.sample / ctx.roots:
 * the engine answers `input_required` with a signed requestState, and runs the handler again
 * when the client retries with inputResponses. The `key` argument is the inputRequests key.
 */

const NAME_FORM = {
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
} as const;

const text = (content: unknown): string => {
  const c = content as { type?: string; text?: string } | undefined;
  return c?.type === 'text' && typeof c.text === 'string' ? c.text : JSON.stringify(content);
};

/** Which of the three client features the caller declared, in order of preference. */
async function askWhatTheClientSupports(ctx: HandlerContext): Promise<string> {
  const caps = ctx.clientCapabilities;
  if (caps.elicitation) {
    const r = await ctx.elicit({ message: 'What is your name?', requestedSchema: NAME_FORM }, 'user_name');
    return `elicitation: ${r.action}`;
  }
  if (caps.sampling) {
    const r = await ctx.sample(
      { messages: [{ role: 'user', content: { type: 'text', text: 'Say hello.' } }], maxTokens: 50 },
      'greeting',
    );
    return `sampling: ${text(r.content)}`;
  }
  // Neither declared: roots/list, or -32021 naming "roots" if that is missing too.
  const r = await ctx.roots('client_roots');
  return `roots: ${r.roots.length}`;
}

export const inputRequiredTools = [
  defineTool({
    name: 'test_input_required_result_elicitation',
    description: 'Asks for the user name with one elicitation (input key "user_name"), then greets.',
    handler: async (_args, ctx) => {
      const r = await ctx.elicit({ message: 'What is your name?', requestedSchema: NAME_FORM }, 'user_name');
      return r.action === 'accept'
        ? `Hello, ${String(r.content?.name ?? 'stranger')}!`
        : `No name given (${r.action}).`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_sampling',
    description:
      'Asks the client\'s model a question with one sampling request (input key "capital_question").',
    handler: async (_args, ctx) => {
      const r = await ctx.sample(
        {
          messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
          maxTokens: 100,
        },
        'capital_question',
      );
      return `The model said: ${text(r.content)}`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_list_roots',
    description: 'Asks the client for its roots with one roots/list request (input key "client_roots").',
    handler: async (_args, ctx) => {
      const { roots } = await ctx.roots('client_roots');
      return `Client roots: ${roots.map((r) => r.uri).join(', ') || '(none)'}`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_request_state',
    description:
      'One confirmation round whose answer travels back inside the signed requestState (key "confirm").',
    handler: async (_args, ctx) => {
      const r = await ctx.elicit(
        {
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        },
        'confirm',
      );
      return `state-ok: confirmed=${String(r.content?.ok ?? false)}`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_multiple_inputs',
    description:
      'Asks for an elicitation, a sampling reply and the roots in one round (three inputRequests).',
    handler: async (_args, ctx) => {
      // Asked concurrently, so all three go to the client in the same input_required result.
      const [name, sample, roots] = await Promise.all([
        ctx.elicit({ message: 'What is your name?', requestedSchema: NAME_FORM }, 'user_name'),
        ctx.sample(
          { messages: [{ role: 'user', content: { type: 'text', text: 'Say hello.' } }], maxTokens: 50 },
          'greeting',
        ),
        ctx.roots('client_roots'),
      ]);
      return `name=${String(name.content?.name)}, model=${text(sample.content)}, roots=${roots.roots.length}`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_multi_round',
    description: 'Two rounds: first the name ("step1"), then the favourite colour ("step2").',
    handler: async (_args, ctx) => {
      const first = await ctx.elicit(
        { message: 'Step 1: What is your name?', requestedSchema: NAME_FORM },
        'step1',
      );
      const second = await ctx.elicit(
        {
          message: 'Step 2: What is your favorite color?',
          requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
        },
        'step2',
      );
      return `${String(first.content?.name)} likes ${String(second.content?.color)}.`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_tampered_state',
    description: 'One confirmation round; a retry whose requestState was altered must be refused.',
    handler: async (_args, ctx) => {
      const r = await ctx.elicit(
        {
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        },
        'confirm',
      );
      return `Confirmed: ${String(r.content?.ok ?? false)}`;
    },
  }),

  defineTool({
    name: 'test_input_required_result_capabilities',
    description: 'Asks only through a feature the client declared (elicitation, else sampling, else roots).',
    handler: async (_args, ctx) => askWhatTheClientSupports(ctx),
  }),

  // server-stateless diagnostics.
  defineTool({
    name: 'test_missing_capability',
    description: 'Needs the sampling capability: without it the call fails with -32021 (HTTP 400).',
    handler: async (_args, ctx) => {
      const r = await ctx.sample(
        { messages: [{ role: 'user', content: { type: 'text', text: 'Say hello.' } }], maxTokens: 50 },
        'sample',
      );
      return `The model said: ${text(r.content)}`;
    },
  }),

  defineTool({
    name: 'test_streaming_elicitation',
    description:
      'Needs input from the user; on 2026-07-28 that is an input_required result, never a request on the stream.',
    handler: async (_args, ctx) => {
      const r = await ctx.elicit({ message: 'What is your name?', requestedSchema: NAME_FORM }, 'user_name');
      return `Hello, ${String(r.content?.name ?? 'stranger')}!`;
    },
  }),

  defineTool({
    name: 'test_logging_tool',
    description:
      'Logs at info level; the messages reach the client only if the request asked for a log level.',
    handler: (_args, ctx) => {
      ctx.log('info', 'test_logging_tool ran');
      return 'Logged one info message (delivered only when a log level was requested).';
    },
  }),
];

export const inputRequiredPrompt = definePrompt({
  name: 'test_input_required_result_prompt',
  description: 'A prompt that first asks the user for context (input key "user_context").',
  get: async (_args, ctx) => {
    const r = await ctx.elicit(
      {
        message: 'What context should the prompt use?',
        requestedSchema: {
          type: 'object',
          properties: { context: { type: 'string' } },
          required: ['context'],
        },
      },
      'user_context',
    );
    return `Use this context: ${String(r.content?.context ?? '(none)')}`;
  },
});

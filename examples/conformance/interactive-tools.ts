import { defineTool } from 'gangway';

/**
 * Tools that ask the client something while they run (tools-call-sampling,
 * tools-call-elicitation, elicitation-sep1034-defaults, elicitation-sep1330-enums). The suite
 * runs them on the 2025-11-25 session wire, where ctx.sample / ctx.elicit are live requests on
 * the call's SSE stream; on 2026-07-28 the same handlers become input_required round trips.
 */

const describe = (r: { action: string; content?: Record<string, unknown> }) =>
  `action=${r.action}, content=${JSON.stringify(r.content ?? {})}`;

export const interactiveTools = [
  defineTool<{ prompt: string }>({
    name: 'test_sampling',
    description: "Asks the client's model to answer `prompt` (sampling/createMessage) and returns its reply.",
    input: {
      type: 'object',
      properties: { prompt: { type: 'string', description: 'The prompt to send to the model' } },
      required: ['prompt'],
    },
    handler: async ({ prompt }, ctx) => {
      const reply = await ctx.sample({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 100,
      });
      const content = reply.content as { type?: string; text?: string } | undefined;
      const text = content?.type === 'text' ? content.text : JSON.stringify(reply.content);
      return `LLM response: ${text}`;
    },
  }),

  defineTool<{ message: string }>({
    name: 'test_elicitation',
    description: 'Asks the user for a username and an email address (elicitation/create, form mode).',
    input: {
      type: 'object',
      properties: { message: { type: 'string', description: 'What to tell the user' } },
      required: ['message'],
    },
    handler: async ({ message }, ctx) => {
      const answer = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return `User response: ${describe(answer)}`;
    },
  }),

  // SEP-1034: every primitive type in a form may carry a default the client pre-fills.
  defineTool({
    name: 'test_elicitation_sep1034_defaults',
    description:
      'Elicits a form whose string, integer, number, enum and boolean fields all have defaults (SEP-1034).',
    handler: async (_args, ctx) => {
      const answer = await ctx.elicit({
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
        },
      });
      return `Elicitation completed: ${describe(answer)}`;
    },
  }),

  // SEP-1330: the five enum shapes (untitled/titled single-select, legacy enumNames,
  // untitled/titled multi-select).
  defineTool({
    name: 'test_elicitation_sep1330_enums',
    description:
      'Elicits a form with every enum schema variant: untitled, titled, legacy enumNames, multi-select (SEP-1330).',
    handler: async (_args, ctx) => {
      const options = ['option1', 'option2', 'option3'];
      const answer = await ctx.elicit({
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', description: 'Untitled single-select', enum: options },
            titledSingle: {
              type: 'string',
              description: 'Titled single-select',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Legacy titled enum (enumNames)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Untitled multi-select',
              items: { type: 'string', enum: options },
            },
            titledMulti: {
              type: 'array',
              description: 'Titled multi-select',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
        },
      });
      return `Elicitation completed: ${describe(answer)}`;
    },
  }),
];

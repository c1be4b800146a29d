import { setTimeout as sleep } from 'node:timers/promises';
import { defineTool, ToolError } from 'gangway';
import { PNG_BASE64, WAV_BASE64 } from './media.ts';

/**
 * Tools whose results the suite inspects (tools-call-* scenarios, both wire families), plus
 * the pending json-schema-2020-12 scenario's tool. None of them needs anything from the
 * client, so they behave the same on every protocol revision.
 */
export const contentTools = [
  defineTool({
    name: 'test_simple_text',
    description: 'Returns one text block (tools-call-simple-text). Takes no arguments.',
    handler: () => 'This is a simple text response for testing.',
  }),

  defineTool({
    name: 'test_image_content',
    description: 'Returns a 1x1 PNG as image content (tools-call-image).',
    handler: () => ({ content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }] }),
  }),

  defineTool({
    name: 'test_audio_content',
    description: 'Returns 50 ms of silent WAV audio (tools-call-audio).',
    handler: () => ({ content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }] }),
  }),

  defineTool({
    name: 'test_embedded_resource',
    description: 'Returns an embedded text resource (tools-call-embedded-resource).',
    handler: () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  }),

  defineTool({
    name: 'test_multiple_content_types',
    description:
      'Returns text, an image and an embedded JSON resource in one result (tools-call-mixed-content).',
    handler: () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  }),

  defineTool({
    name: 'test_error_handling',
    description: 'Always fails with a tool error (isError: true), never a protocol error (tools-call-error).',
    handler: () => {
      throw new ToolError('This tool intentionally returns an error for testing');
    },
  }),

  defineTool({
    name: 'test_tool_with_progress',
    description: 'Reports progress 0, 50 and 100 of 100, then answers (tools-call-with-progress).',
    handler: async (_args, ctx) => {
      for (const step of [0, 50, 100]) {
        ctx.progress(step, 100, `step ${step / 50 + 1} of 3`);
        if (step < 100) await sleep(50, undefined, { signal: ctx.signal });
      }
      return 'Progress complete: 3 notifications sent.';
    },
  }),

  defineTool({
    name: 'test_tool_with_logging',
    description: 'Sends three info log messages about 50 ms apart while it runs (tools-call-with-logging).',
    handler: async (_args, ctx) => {
      ctx.log('info', 'Tool execution started');
      await sleep(50, undefined, { signal: ctx.signal });
      ctx.log('info', 'Tool processing data');
      await sleep(50, undefined, { signal: ctx.signal });
      ctx.log('info', 'Tool execution completed');
      return 'Logging complete: 3 messages sent.';
    },
  }),

  // The input schema must reach tools/list exactly as written: $schema, $defs with $anchor,
  // $ref, allOf/anyOf, if/then/else and additionalProperties (json-schema-2020-12, pending).
  defineTool({
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    input: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          $anchor: 'addressDef',
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: {
        name: { type: 'string' },
        address: { $ref: '#/$defs/address' },
        contactMethod: { type: 'string', enum: ['phone', 'email'] },
        phone: { type: 'string' },
        email: { type: 'string' },
      },
      allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
      if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
      // the JSON Schema if/then/else keyword, not a thenable
      then: { required: ['phone'] },
      else: { required: ['email'] },
      additionalProperties: false,
    },
    handler: (args) => `Received: ${JSON.stringify(args)}`,
  }),
];

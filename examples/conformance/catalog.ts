import { definePrompt, defineResource, defineResourceTemplate } from 'gangway';
import { PNG_BASE64, RED_PIXEL_PNG } from './media.ts';

/** Resources, the resource template and the prompts the resources-* and prompts-* scenarios read. */

// The first listed resource must be readable on every wire: `caching` reads it.
export const resources = [
  defineResource({
    uri: 'test://static-text',
    name: 'static-text',
    description: 'A fixed text resource (resources-read-text).',
    mimeType: 'text/plain',
    read: () => 'This is the content of the static text resource.',
  }),
  defineResource({
    uri: 'test://static-binary',
    name: 'static-binary',
    description: 'A fixed binary resource, a 1x1 PNG sent as a base64 blob (resources-read-binary).',
    mimeType: 'image/png',
    read: () => new Uint8Array(RED_PIXEL_PNG),
  }),
  defineResource({
    uri: 'test://watched-resource',
    name: 'watched-resource',
    description: 'A resource clients may subscribe to (resources-subscribe, resources-unsubscribe).',
    mimeType: 'text/plain',
    read: () => `Watched resource, read at ${new Date().toISOString()}.`,
  }),
];

export const resourceTemplates = [
  defineResourceTemplate({
    uriTemplate: 'test://template/{id}/data',
    name: 'template-data',
    description: 'JSON data for any id (resources-templates-read).',
    mimeType: 'application/json',
    complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
    read: (_uri, { id }) => JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
  }),
];

const CITIES = ['Paris', 'Lisbon', 'Tokyo', 'Toronto', 'Nairobi'];

export const prompts = [
  definePrompt({
    name: 'test_simple_prompt',
    description: 'A prompt without arguments (prompts-get-simple).',
    get: () => 'This is a simple prompt for testing.',
  }),
  definePrompt({
    name: 'test_prompt_with_arguments',
    description: 'A prompt that repeats its two required arguments (prompts-get-with-args).',
    arguments: [
      {
        name: 'arg1',
        description: 'First argument (completable: city names)',
        required: true,
        // completion-complete asks for arg1 completions; any list, even empty, is valid.
        complete: (value) => CITIES.filter((c) => c.toLowerCase().startsWith(value.toLowerCase())),
      },
      { name: 'arg2', description: 'Second argument', required: true },
    ],
    get: ({ arg1, arg2 }) => `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
  }),
  definePrompt({
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds the resource named by `resourceUri` (prompts-get-embedded-resource).',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    get: ({ resourceUri }) => [
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: resourceUri ?? '',
            mimeType: 'text/plain',
            text: 'Embedded resource content for testing.',
          },
        },
      },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
    ],
  }),
  definePrompt({
    name: 'test_prompt_with_image',
    description: 'A prompt with an image message (prompts-get-with-image).',
    get: () => [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }),
];

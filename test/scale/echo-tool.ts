import { defineTool } from '../../src/index.ts';

/** `echo { n }` answers n as text: the fault tests match each answer to the call that sent it. */
export const echoN = defineTool<{ n: string }>({
  name: 'echo',
  description: 'Echoes n',
  input: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] },
  handler: ({ n }) => n,
});

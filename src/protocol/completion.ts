import { invalidParams, shown } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { Completer } from '../registry/types.ts';
import type { RequestScope } from './scope.ts';

const MAX_VALUES = 100; // server/utilities/completion: at most 100 values per response

export async function complete(params: Record<string, unknown> | undefined, scope: RequestScope, registry: Registry) {
  const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
  const argument = params?.argument as { name?: unknown; value?: unknown } | undefined;
  if (!ref || typeof ref !== 'object') throw invalidParams('completion/complete needs params.ref');
  if (!argument || typeof argument.name !== 'string' || typeof argument.value !== 'string') {
    throw invalidParams('completion/complete needs params.argument { name, value } (strings)');
  }
  let completer: Completer | undefined;
  if (ref.type === 'ref/prompt') {
    const prompt = typeof ref.name === 'string' ? registry.prompts.get(ref.name) : undefined;
    if (!prompt) throw invalidParams(`Unknown prompt: ${shown(ref.name, 128)}`);
    completer = prompt.arguments?.find((a) => a.name === argument.name)?.complete;
  } else if (ref.type === 'ref/resource') {
    const t = registry.templates.find((c) => c.def.uriTemplate === ref.uri);
    if (!t) throw invalidParams(`Unknown resource template: ${shown(ref.uri, 256)}`);
    completer = t.def.complete?.[argument.name];
  } else throw invalidParams('params.ref.type must be "ref/prompt" or "ref/resource"');

  const ctxArgs = (params?.context as { arguments?: Record<string, string> } | undefined)?.arguments ?? {};
  const all = completer ? await completer(argument.value, { arguments: ctxArgs, principal: scope.principal }) : [];
  const values = all.slice(0, MAX_VALUES);
  const result: Record<string, unknown> = {
    completion: { values, total: all.length, hasMore: all.length > MAX_VALUES },
  };
  if (scope.era.resultType) result.resultType = 'complete';
  return result;
}

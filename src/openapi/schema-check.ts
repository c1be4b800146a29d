import { createAjv } from '../registry/schema.ts';
import { OpenApiImportError } from './errors.ts';
import type { OperationPlan } from './operation.ts';

export type SchemaCheck = 'meta' | 'compile' | 'none';

/**
 * Checks every generated input schema with the registry's own Ajv settings, so what import
 * accepts the server accepts: `meta` validates against the 2020-12 meta-schema (what the
 * registry does at start-up); `compile` also generates each validator (what the first call
 * does), which catches what the meta-schema cannot, such as an unresolvable `$ref`.
 */
export function checkSchemas(plans: readonly OperationPlan[], level: SchemaCheck, onEach?: (done: number) => void): void {
  if (level === 'none') return;
  const ajv = createAjv();
  plans.forEach((plan, i) => {
    const where = `tool "${plan.tool}" (${plan.method.toUpperCase()} ${plan.path})`;
    if (!ajv.validateSchema(plan.inputSchema)) {
      throw new OpenApiImportError('GW_OPENAPI_SCHEMA', `${where}: input schema is not valid JSON Schema 2020-12: ${ajv.errorsText(ajv.errors)}`);
    }
    if (level === 'compile') {
      try {
        ajv.compile(plan.inputSchema);
      } catch (err) {
        throw new OpenApiImportError('GW_OPENAPI_SCHEMA', `${where}: input schema does not compile: ${(err as Error).message}`);
      }
      // Compiled validators are not kept: the registry compiles its own on first use.
      ajv.removeSchema(plan.inputSchema);
    }
    onEach?.(i + 1);
  });
}

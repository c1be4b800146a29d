import type { BodyPlan } from './operation.ts';

type Encoding = NonNullable<BodyPlan['encoding']>[string];

/**
 * Swagger 2.0 `collectionFormat` of an array formData field -> how the proxy writes it in the
 * form: `multi` repeats the field (form, explode); the others join the items with a delimiter.
 */
export function collectionEncoding(format: unknown): Encoding {
  switch (format) {
    case 'multi':
      return { style: 'form', explode: true };
    case 'ssv':
      return { style: 'spaceDelimited', explode: false };
    case 'pipes':
      return { style: 'pipeDelimited', explode: false };
    case 'tsv':
      return { style: 'form', explode: false, delimiter: '\t' };
    default: // csv, the 2.0 default
      return { style: 'form', explode: false };
  }
}

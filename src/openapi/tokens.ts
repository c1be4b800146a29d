import { createRequire } from 'node:module';

/**
 * Token costs are counted with o200k_base (GPT-4o's encoding, via gpt-tokenizer): Anthropic's
 * and Google's tokenizers are not public; o200k is a stable, reproducible yardstick. Import and
 * the CLI only: serving reads the counts stored in the manifest. The encoder's tables cost
 * ~65 MB and ~0.2 s to load, so they are loaded on the first count, never by a server that only
 * imports this package.
 */
export const TOKENIZER = 'o200k_base' as const;

let encoder: { countTokens(text: string): number } | undefined;
const count = (text: string): number => {
  encoder ??= createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens(text: string): number };
  return encoder.countTokens(text);
};

export function countJsonTokens(value: unknown): number {
  return count(JSON.stringify(value));
}

export function countTextTokens(text: string): number {
  return count(text);
}

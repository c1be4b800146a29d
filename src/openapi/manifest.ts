import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isObject } from './document.ts';
import { OpenApiImportError } from './errors.ts';
import type { Manifest } from './operation.ts';

/**
 * Writes a manifest as compact JSON (no indentation: GitHub's is ~40% smaller that way, and
 * JSON.parse of fewer bytes is the cold start). Written to a temporary file and renamed, so a
 * server starting meanwhile never reads half a manifest.
 */
export function writeManifest(path: string, manifest: Manifest): number {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return bytes.length;
}

/**
 * Reads a manifest written by `gangway import`. Fast on purpose: one JSON.parse and a shape
 * check, no schema validation or compilation (import did both; the registry compiles each
 * validator on first use).
 */
export function loadManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `cannot read manifest ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `manifest ${path} is not JSON: ${(err as Error).message}`);
  }
  return checkManifest(value, path);
}

function checkManifest(value: unknown, where = 'manifest'): Manifest {
  if (!isObject(value) || value.format === undefined) {
    throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `${where} is not a Gangway manifest (no "format")`);
  }
  if (value.format !== 1) {
    throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `${where} has format ${JSON.stringify(value.format)}; this Gangway reads format 1: run gangway import again`);
  }
  if (!Array.isArray(value.operations) || typeof value.listTokens !== 'number' || typeof value.specDigest !== 'string') {
    throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `${where} is incomplete (operations, listTokens, specDigest)`);
  }
  for (const [i, op] of value.operations.entries()) {
    if (!isObject(op) || typeof op.tool !== 'string' || typeof op.method !== 'string' || typeof op.path !== 'string' || !isObject(op.inputSchema)) {
      throw new OpenApiImportError('GW_OPENAPI_MANIFEST', `${where}: operation ${i} is malformed`);
    }
  }
  return value as unknown as Manifest;
}

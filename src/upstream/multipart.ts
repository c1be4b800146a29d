import { randomBytes } from 'node:crypto';
import type { BodyEncoding } from '../openapi/operation.ts';
import { decodeBase64Argument } from './base64-argument.ts';
import { joinSeparator } from './form-fields.ts';
import { isPlainObject } from './serialize-parameter.ts';

/**
 * multipart/form-data (RFC 7578). One part per property; list values repeat the part (OpenAPI
 * 3.1.1 4.8.15.4), unless the Encoding Object says explode false (Swagger 2.0 csv/ssv/pipes/tsv
 * formData), which joins them into one part. File fields arrive as base64 and are sent as
 * bytes with a filename; objects default to application/json parts (Encoding Object
 * `contentType` default for objects); an explicit single `contentType` names the part's type.
 */
export interface EncodedMultipart {
  body: Buffer;
  contentType: string;
}

interface Part {
  headers: string;
  bytes: Buffer;
}

export function encodeMultipart(
  fields: Record<string, unknown>,
  fileFields: readonly string[],
  encoding: Record<string, BodyEncoding> = {},
): EncodedMultipart {
  const parts: Part[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    const e = encoding[name] ?? {};
    const file = fileFields.includes(name);
    let members = Array.isArray(value) ? value.filter((m) => m !== undefined && m !== null) : [value];
    if (Array.isArray(value) && !file && e.explode === false) {
      members = members.length ? [members.map((m) => (typeof m === 'object' ? JSON.stringify(m) : String(m))).join(joinSeparator(e))] : [];
    }
    for (const member of members) parts.push(file ? filePart(name, member, e) : valuePart(name, member, e));
  }
  let boundary = newBoundary();
  // 128 random bits will not appear in the payload, but checking costs one scan per part.
  while (parts.some((p) => p.bytes.includes(boundary))) boundary = newBoundary();
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers}\r\n`), part.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function newBoundary(): string {
  return `gangway-${randomBytes(16).toString('hex')}`;
}

function filePart(name: string, value: unknown, e: BodyEncoding): Part {
  const { bytes, mediaType } = decodeBase64Argument(name, value);
  const type = mediaType ?? concrete(e.contentType) ?? 'application/octet-stream';
  return {
    headers: `Content-Disposition: form-data; name="${quoted(name)}"; filename="${quoted(name)}"\r\nContent-Type: ${type}\r\n`,
    bytes,
  };
}

function valuePart(name: string, value: unknown, e: BodyEncoding): Part {
  const disposition = `Content-Disposition: form-data; name="${quoted(name)}"\r\n`;
  const declared = concrete(e.contentType);
  if (isPlainObject(value) || Array.isArray(value)) {
    return { headers: `${disposition}Content-Type: ${declared ?? 'application/json'}\r\n`, bytes: Buffer.from(JSON.stringify(value)) };
  }
  return { headers: declared ? `${disposition}Content-Type: ${declared}\r\n` : disposition, bytes: Buffer.from(String(value)) };
}

/** An Encoding Object `contentType` may be a list or a wildcard (`image/*`); only one concrete type names a part. */
function concrete(contentType: string | undefined): string | undefined {
  if (!contentType || contentType.includes(',') || contentType.includes('*') || /[\r\n]/.test(contentType)) return undefined;
  return contentType.trim();
}

/** HTML's multipart/form-data encoding of names: `"`, CR and LF percent-encoded (RFC 7578 4.2). */
function quoted(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

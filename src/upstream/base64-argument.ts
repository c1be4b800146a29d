import { ToolError } from '../errors.ts';

/**
 * Binary arguments (file uploads, octet-stream bodies) arrive as base64 text: JSON cannot
 * carry bytes. A `data:` URL is accepted too (`data:image/png;base64,...`), which also names
 * the media type. Decoding is strict: Buffer.from silently skips bad characters, and a file
 * sent with half its bytes missing is worse than an error the model can fix.
 */
export interface DecodedBytes {
  bytes: Buffer;
  mediaType: string | undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;
const DATA_URL = /^data:([^;,]*)(?:;[^;,=]+=[^;,]*)*;base64,/i;

export function decodeBase64Argument(field: string, value: unknown): DecodedBytes {
  if (typeof value !== 'string') throw new ToolError(`${field} must be a base64 string.`);
  let text = value;
  let mediaType: string | undefined;
  const data = DATA_URL.exec(text);
  if (data) {
    // Only a plain `type/subtype` token (RFC 9110 8.3.1) may travel on into a part's
    // Content-Type: anything else (CR, LF, quotes) could add headers upstream, so it is dropped.
    mediaType = MEDIA_TYPE.test(data[1]!) ? data[1] : undefined;
    text = text.slice(data[0].length);
  }
  // Line breaks (MIME base64) and the URL-safe alphabet (RFC 4648 5) are accepted as well.
  text = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!BASE64.test(text)) throw new ToolError(`${field} is not valid base64.`);
  return { bytes: Buffer.from(text, 'base64'), mediaType };
}

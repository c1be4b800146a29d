import { STATUS_CODES } from 'node:http';
import type { OperationPlan } from '../openapi/operation.ts';
import type { CallToolResult, ContentBlock } from '../registry/types.ts';
import { apiErrorMessage } from './api-error.ts';
import { cutUtf8, fitJson } from './fit-json.ts';
import { nextPageArguments, pagingArguments } from './paging-hint.ts';

/** An upstream answer as read from the socket (at most the hard cap). */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** False when reading stopped at the hard cap: `body` is only the start of the answer. */
  complete: boolean;
  /** The request path (with query), used to name binary answers as resources. */
  path: string;
}

export interface MapLimits {
  /** Bytes of text the model gets (JSON and text answers are cut to this). */
  maxResponseBytes: number;
}

/** Error bodies are explanations, not data: a smaller share of the budget is enough. */
const ERROR_TEXT_BYTES = 2000;

/**
 * The tool result for an upstream answer. Decisions, in order: errors and redirects become
 * `isError`; JSON becomes compact text plus `structuredContent` when it is an object (a JSON
 * array has no object to offer: MCP requires structuredContent to be an object, and wrapping
 * it would invent a shape the spec's response schema does not describe, so the array stays
 * in the text block only, as the engine does for handlers returning arrays); images and audio
 * become image/audio blocks; other text is text; anything else is an embedded resource blob.
 */
export function mapResponse(plan: OperationPlan, res: UpstreamResponse, limits: MapLimits): CallToolResult {
  const type = mediaType(res.headers['content-type']);
  if (res.status >= 400) return errorResult(res, type);
  if (res.status >= 300 && res.status !== 304) {
    // Redirects are not followed: a 3xx could lead anywhere, and the base URL is fixed by config.
    return { isError: true, content: [text(`The API answered ${statusLine(res.status)} (a redirect, not followed).`)] };
  }
  const notes: string[] = [];
  const next = nextPageArguments(plan, header(res, 'link'));
  if (next) notes.push(`The API reports more results: call ${plan.tool} again with ${next}.`);
  if (res.body.length === 0) {
    const location = header(res, 'location');
    return { content: [text(`The API answered ${statusLine(res.status)} with no body.${location ? ` Location: ${location}` : ''}`)] };
  }

  if (isJson(type.essence) && res.complete) {
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(decode(res.body, type.charset));
    } catch {
      parsed = false;
    }
    if (parsed) return jsonResult(plan, value, limits, notes);
  }
  if (isTextual(type.essence) || (type.essence === '' && isUtf8Text(res.body))) {
    return textResult(plan, decode(res.body, type.charset), res.complete, limits, notes);
  }
  if (!res.complete) {
    const what = type.essence || 'binary data';
    const line = `The API answered with more than ${res.body.length} bytes of ${what}, more than this server passes on.`;
    return { isError: true, content: [text(line)] };
  }
  const data = res.body.toString('base64');
  const block: ContentBlock = type.essence.startsWith('image/')
    ? { type: 'image', data, mimeType: type.essence }
    : type.essence.startsWith('audio/')
      ? { type: 'audio', data, mimeType: type.essence }
      : { type: 'resource', resource: { uri: `upstream:${res.path}`, mimeType: type.essence || 'application/octet-stream', blob: data } };
  return { content: [block, ...notes.map(text)] };
}

function jsonResult(plan: OperationPlan, value: unknown, limits: MapLimits, notes: string[]): CallToolResult {
  const fitted = fitJson(value, limits.maxResponseBytes);
  if (fitted.shortened) {
    const { kept, total, property } = fitted.shortened;
    const where = property === null ? 'the list' : `"${property}"`;
    notes.unshift(
      `Response shortened to fit ${limits.maxResponseBytes} bytes: ${kept} of ${total} items of ${where} shown ` +
        `(${fitted.totalBytes} bytes in full). ${howToPage(plan)}`,
    );
  } else if (fitted.rawCut) {
    notes.unshift(`Response cut at ${limits.maxResponseBytes} of ${fitted.totalBytes} bytes; the JSON above is incomplete. ${howToPage(plan)}`);
  }
  const result: CallToolResult = { content: [text(fitted.text), ...notes.map(text)] };
  const shown = fitted.value;
  if (shown !== null && typeof shown === 'object' && !Array.isArray(shown)) {
    result.structuredContent = shown as Record<string, unknown>;
  }
  return result;
}

function textResult(plan: OperationPlan, body: string, complete: boolean, limits: MapLimits, notes: string[]): CallToolResult {
  const size = Buffer.byteLength(body);
  if (size > limits.maxResponseBytes || !complete) {
    const of = complete ? `of ${size} bytes` : `of more than ${size} bytes`;
    notes.unshift(`Response cut at ${limits.maxResponseBytes} ${of}. ${howToPage(plan)}`);
    body = cutUtf8(body, limits.maxResponseBytes);
  }
  return { content: [text(body), ...notes.map(text)] };
}

function howToPage(plan: OperationPlan): string {
  const paging = pagingArguments(plan);
  return paging.length
    ? `This operation pages with ${paging.join(', ')}: ask for fewer items per page, or the next page.`
    : 'Narrow the request (filters, a smaller selection) to get a smaller answer.';
}

function errorResult(res: UpstreamResponse, type: { essence: string; charset: string | undefined }): CallToolResult {
  let message: string | undefined;
  if (res.body.length && !/html/.test(type.essence)) {
    const body = decode(res.body, type.charset);
    let parsed: unknown = body;
    if (isJson(type.essence) || /^\s*[{[]/.test(body)) {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
    }
    message = apiErrorMessage(parsed) ?? cutUtf8(JSON.stringify(parsed), ERROR_TEXT_BYTES);
    message = cutUtf8(message, ERROR_TEXT_BYTES);
  }
  let line = `The API answered ${statusLine(res.status)}${message ? `: ${message}` : '.'}`;
  const retry = header(res, 'retry-after');
  if ((res.status === 429 || res.status === 503) && retry) line += ` Retry after ${retry}${/^\d+$/.test(retry) ? ' seconds' : ''}.`;
  return { isError: true, content: [text(line)], structuredContent: { status: res.status } };
}

function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : String(status);
}

function text(t: string): ContentBlock {
  return { type: 'text', text: t };
}

function header(res: UpstreamResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function mediaType(raw: string | string[] | undefined): { essence: string; charset: string | undefined } {
  const value = (Array.isArray(raw) ? raw[0] : raw) ?? '';
  const [essence = '', ...params] = value.split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(p)?.[1]).find(Boolean);
  return { essence: essence.trim().toLowerCase(), charset };
}

function isJson(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json') || essence === 'text/json';
}

function isTextual(essence: string): boolean {
  return (
    essence.startsWith('text/') ||
    isJson(essence) ||
    essence.endsWith('+xml') ||
    /^application\/(xml|javascript|ecmascript|yaml|x-yaml|x-ndjson|jsonl|graphql|sql|csv|x-www-form-urlencoded)$/.test(essence)
  );
}

function decode(bytes: Buffer, charset: string | undefined): string {
  if (charset) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // Unknown label: fall through to UTF-8.
    }
  }
  return bytes.toString('utf8');
}

/** No declared type: text if it is valid UTF-8 without NUL bytes. */
function isUtf8Text(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The API's own explanation of a failed request, from the error shapes APIs actually use:
 * `{message}` (GitHub, Kubernetes Status), `{error: "..."}` with `error_description`
 * (RFC 6749 5.2), `{error: {message}}` (Google, Stripe, OpenAI), RFC 9457 problem details
 * (`title`, `detail`), and `{errors: [...]}` lists (JSON:API, GraphQL, GitHub 422 details).
 */
export function apiErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  const parts: string[] = [];
  const nested = isRecord(o.error) ? o.error : undefined;
  const main =
    str(o.message) ??
    str(nested?.message) ??
    problem(o) ??
    oauth(o) ??
    str(o.error_message) ??
    str(o.errorMessage) ??
    str(o.msg) ??
    str(o.description);
  if (main) parts.push(main);
  const details = errorList(o.errors ?? nested?.errors ?? nested?.details);
  if (details) parts.push(details);
  return parts.length ? parts.join(' ') : undefined;
}

function problem(o: Record<string, unknown>): string | undefined {
  const title = str(o.title);
  const detail = str(o.detail);
  if (title && detail) return `${title}: ${detail}`;
  return detail ?? title;
}

function oauth(o: Record<string, unknown>): string | undefined {
  const code = str(o.error);
  const description = str(o.error_description);
  if (code && description) return `${code}: ${description}`;
  return description ?? code;
}

/** A short rendering of an `errors` list: strings, `{message}`/`{detail}` objects, else compact JSON. */
function errorList(errors: unknown): string | undefined {
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const items = errors.slice(0, 10).map((e) => {
    if (typeof e === 'string') return e;
    if (isRecord(e)) return str(e.message) ?? str(e.detail) ?? str(e.title) ?? JSON.stringify(e);
    return JSON.stringify(e);
  });
  const more = errors.length > 10 ? ` (and ${errors.length - 10} more)` : '';
  const text = `Details: ${items.join('; ')}${more}`;
  return text.length > 1000 ? `${text.slice(0, 1000)}...` : text;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

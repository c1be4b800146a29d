/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10, structured fields):
 * `RateLimit-Policy: "name";q=<quota>;w=<window s>` advertises the policy, and
 * `RateLimit: "name";r=<remaining>;t=<seconds to reset>` the state of the caller's window.
 * Sent on every 429, with `Retry-After` (RFC 9110 10.2.3) in whole seconds, never 0.
 */
export interface RateState {
  /** Policy name, a short token (`credential`, `tenant`, `tool`, `quota`, `token`...). */
  policy: string;
  /** Allowed per window. */
  quota: number;
  windowMs: number;
  remaining: number;
  /** Until the window resets. */
  resetMs: number;
}

export function rateLimitHeaders(s: RateState): Record<string, string> {
  const t = Math.max(1, Math.ceil(s.resetMs / 1000));
  return {
    'ratelimit-policy': `"${s.policy}";q=${s.quota};w=${Math.max(1, Math.round(s.windowMs / 1000))}`,
    ratelimit: `"${s.policy}";r=${Math.max(0, s.remaining)};t=${t}`,
  };
}

/** The headers of a refusal: both RateLimit fields and `Retry-After`. */
export function tooManyHeaders(s: RateState): Record<string, string> {
  return { ...rateLimitHeaders(s), 'retry-after': String(Math.max(1, Math.ceil(s.resetMs / 1000))) };
}

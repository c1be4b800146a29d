/**
 * The four MCP revisions Gangway serves, as data. Every wire difference between them that the
 * shared code needs to know is a field here (see ../shared/PROTOCOL.md); nothing else in
 * protocol/ compares version strings.
 */
export interface Era {
  readonly version: string;
  /** 2026-07-28: no initialize, no sessions; `_meta` envelope on every request. */
  readonly modern: boolean;
  /** JSON-RPC batches (2025-03-26 only). */
  readonly batches: boolean;
  /** `title`, `outputSchema`, `structuredContent`, `_meta` on definitions (2025-06-18+). */
  readonly structured: boolean;
  /** `icons` on definitions (2025-11-25+). */
  readonly icons: boolean;
  /** Form elicitation over a live stream (2025-06-18, 2025-11-25). */
  readonly liveElicitation: boolean;
  /** Input validation failures as `isError` tool results rather than -32602 (2025-11-25+). */
  readonly validationAsToolError: boolean;
  /** Error code for resources/read of an unknown URI. */
  readonly resourceNotFoundCode: number;
  /** `resultType` on every result, `ttlMs`/`cacheScope` on cacheable ones (2026-07-28). */
  readonly resultType: boolean;
}

const base = {
  modern: false,
  batches: false,
  structured: true,
  icons: false,
  liveElicitation: true,
  validationAsToolError: false,
  resourceNotFoundCode: -32002,
  resultType: false,
} as const;

export const ERA_2025_03_26: Era = {
  ...base,
  version: '2025-03-26',
  batches: true,
  structured: false,
  liveElicitation: false,
};
export const ERA_2025_06_18: Era = { ...base, version: '2025-06-18' };
export const ERA_2025_11_25: Era = { ...base, version: '2025-11-25', icons: true, validationAsToolError: true };
export const ERA_2026_07_28: Era = {
  ...base,
  version: '2026-07-28',
  modern: true,
  icons: true,
  liveElicitation: false,
  validationAsToolError: true,
  resourceNotFoundCode: -32602,
  resultType: true,
};

/** Newest first. */
export const ERAS: readonly Era[] = [ERA_2026_07_28, ERA_2025_11_25, ERA_2025_06_18, ERA_2025_03_26];
export const LEGACY_ERAS: readonly Era[] = ERAS.filter((e) => !e.modern);
export const SUPPORTED_VERSIONS: readonly string[] = ERAS.map((e) => e.version);
const byVersion = new Map(ERAS.map((e) => [e.version, e]));

export function eraFor(version: string): Era | undefined {
  return byVersion.get(version);
}

/**
 * initialize version negotiation (2025 lifecycle): the requested version if we speak it as a
 * session era, otherwise our newest session era. A client asking for 2026-07-28 through
 * initialize is an old-style handshake, so it gets the newest session era too.
 */
export function negotiateLegacy(requested: unknown): Era {
  const era = typeof requested === 'string' ? byVersion.get(requested) : undefined;
  return era && !era.modern ? era : LEGACY_ERAS[0]!;
}

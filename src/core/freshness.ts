/**
 * The one rule for "is the cached access token good enough": it must outlive `minTtlMs`.
 * Shared by the full session and any fast path, so both decide alike.
 */
export function isFresh(accessToken: string | undefined, accessExpiresAt: number | undefined, minTtlMs: number, now = Date.now()): accessToken is string {
  return Boolean(accessToken) && accessExpiresAt !== undefined && accessExpiresAt - now > minTtlMs
}

export const DEFAULT_MIN_TTL_MS = 5 * 60_000

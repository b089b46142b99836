/**
 * The one rule for "is the cached access token good enough": it must outlive `minTtlMs`.
 * Shared by the full session and any fast path, so both decide alike.
 */
export function isFresh(
  accessToken: string | undefined,
  accessExpiresAt: number | undefined,
  minTtlMs: number,
  now = Date.now(),
): accessToken is string {
  return Boolean(accessToken) && accessExpiresAt !== undefined && accessExpiresAt - now > minTtlMs
}

export const DEFAULT_MIN_TTL_MS = 5 * 60_000

/**
 * How far ahead of this clock a time written by a process of this machine may be and still
 * be believed: one clock, and a file's time is only as fine as its filesystem's.
 */
const FUTURE_SLACK_MS = 1_000

/**
 * Whether `time` is later than this clock allows (beyond the slack). Such a time was not
 * written by a process of this machine as it ran: a planted one, or a clock set back since.
 * Believed, it would outrank every real time: a lock holder's beat that never goes stale,
 * a record that passes for work just done (so `refresh` does nothing).
 */
export function isFromTheFuture(time: number, now = Date.now()): boolean {
  return time > now + FUTURE_SLACK_MS
}

/** Which of an env's tokens a caller wants: the access token, or the OpenID Connect ID token. */
export type TokenKind = 'access' | 'id'

/** The token of that kind an entry (a record, a cache entry) holds, and its expiry. */
export function heldToken(
  entry: { accessToken?: string; accessExpiresAt?: number; idToken?: string; idExpiresAt?: number } | undefined,
  kind: TokenKind,
): [token: string | undefined, expiresAt: number | undefined] {
  return kind === 'id' ? [entry?.idToken, entry?.idExpiresAt] : [entry?.accessToken, entry?.accessExpiresAt]
}

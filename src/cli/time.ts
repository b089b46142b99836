import { formatDuration } from '../util/duration.js'

/** ISO 8601 UTC to the second, ending in Z (docs/design.md#commands). */
export function isoTime(epochMs: number | undefined): string | null {
  return epochMs === undefined ? null : new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** "in 25m (2026-11-24T15:00:00Z)" or "expired 3m ago (…)". */
export function describeExpiry(epochMs: number | undefined, now = Date.now()): string {
  if (epochMs === undefined) return 'unknown'
  const left = epochMs - now
  return left > 0
    ? `in ${formatDuration(left)} (${isoTime(epochMs)})`
    : `expired ${formatDuration(-left)} ago (${isoTime(epochMs)})`
}

/**
 * "expires in 25m (…)" or "expired 3m ago (…)": the verb goes with the tense, so a token
 * that is already out of date (a server that said `expires_in: 0`) never reads
 * "expires expired 0s ago".
 */
export function expiresPhrase(epochMs: number | undefined, now = Date.now()): string {
  if (epochMs === undefined) return 'expires at an unknown time'
  return epochMs - now > 0 ? `expires ${describeExpiry(epochMs, now)}` : describeExpiry(epochMs, now)
}

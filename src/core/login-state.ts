import type { SecretRecord } from '../stores/types.js'

/** A token can be had without a person: a live access token, or a refresh token that has not run out. */
export function isLoggedIn(record: SecretRecord | undefined, now = Date.now()): boolean {
  if (!record) return false
  if (record.accessToken && (record.accessExpiresAt ?? 0) > now) return true
  return Boolean(record.refreshToken) && (record.refreshExpiresAt === undefined || record.refreshExpiresAt > now)
}

import { printable } from '../core/env-name.js'
import { ServerError } from '../core/errors.js'
import { jwtExpiry } from '../util/jwt.js'
import type { TokenSet } from './types.js'

export const DEFAULT_ACCESS_TTL_MS = 30 * 60_000
export const DEFAULT_REFRESH_TTL_MS = 7 * 86_400_000

/** RFC 6750 b64token, at most 16 KiB (SPEC §9): nothing a server sends can break a line, a quote or a header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const MAX_TOKEN = 16 * 1024

export function isSafeToken(token: string): boolean {
  return token.length <= MAX_TOKEN && B64TOKEN.test(token)
}

export interface TokenFields {
  accessToken: unknown
  refreshToken: unknown
  expiresIn: unknown
  refreshExpiresIn: unknown
  user?: unknown
}

/**
 * Turn the fields of a token response into a TokenSet: the token checked, lifetimes from
 * the response, then the JWT `exp`, then the defaults (SPEC §2.1).
 */
export function toTokenSet(fields: TokenFields, host: string, now = Date.now()): TokenSet {
  const access = fields.accessToken
  if (typeof access !== 'string' || access.length === 0) {
    throw new ServerError(`${host} answered without an access token.`, 'The server may not speak the protocol this env is set to; check "tokenctl env show".')
  }
  checkToken(access, 'access', host)
  const set: TokenSet = { accessToken: access, accessExpiresAt: expiry(fields.expiresIn, access, DEFAULT_ACCESS_TTL_MS, now) }
  const refresh = fields.refreshToken
  if (typeof refresh === 'string' && refresh.length > 0) {
    checkToken(refresh, 'refresh', host)
    set.refreshToken = refresh
    set.refreshExpiresAt = expiry(fields.refreshExpiresIn, refresh, DEFAULT_REFRESH_TTL_MS, now)
  }
  if (typeof fields.user === 'string' && fields.user) set.user = printable(fields.user, 128)
  return set
}

function checkToken(token: string, kind: string, host: string): void {
  if (!isSafeToken(token)) {
    throw new ServerError(
      `${host} sent an ${kind} token that is not a valid bearer token (${token.length > MAX_TOKEN ? 'longer than 16 KiB' : 'characters outside RFC 6750'}); it was refused.`,
      'Nothing was stored. Report this to whoever runs the server.',
    )
  }
}

function expiry(seconds: unknown, token: string, fallback: number, now: number): number {
  const value = typeof seconds === 'string' && /^\d+$/.test(seconds) ? Number(seconds) : seconds
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return now + value * 1000
  return jwtExpiry(token) ?? now + fallback
}

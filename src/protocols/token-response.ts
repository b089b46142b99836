import { printable } from '../base/env-name.js'
import { ServerError } from '../base/errors.js'
import { rememberSecrets } from '../base/secrets.js'
import { isSafeToken, MAX_TOKEN } from '../util/b64token.js'
import { jwtExpiry } from '../util/jwt.js'
import type { TokenSet } from './types.js'

export const DEFAULT_ACCESS_TTL_MS = 30 * 60_000
export const DEFAULT_REFRESH_TTL_MS = 7 * 86_400_000

export { isSafeToken } from '../util/b64token.js'

export interface TokenFields {
  accessToken: unknown
  refreshToken: unknown
  expiresIn: unknown
  refreshExpiresIn: unknown
  user?: unknown
}

/**
 * Turn the fields of a token response into a TokenSet: the token checked, lifetimes from
 * the response, then the JWT `exp`, then the defaults (docs/design.md#the-api-protocol).
 */
export function toTokenSet(fields: TokenFields, host: string, now = Date.now()): TokenSet {
  // Known as secrets before they are judged: a refused token must not be printed either.
  rememberSecrets(fields.accessToken, fields.refreshToken)
  const access = fields.accessToken
  if (typeof access !== 'string' || access.length === 0) {
    throw new ServerError(
      `${host} answered without an access token.`,
      'The server may not speak the protocol this env is set to; check "tokenctl env show".',
    )
  }
  checkToken(access, 'access', host)
  const set: TokenSet = {
    accessToken: access,
    accessExpiresAt: expiry(lifetime(fields.expiresIn, 'access', host), access, DEFAULT_ACCESS_TTL_MS, now),
  }
  const refresh = fields.refreshToken
  if (typeof refresh === 'string' && refresh.length > 0) {
    checkToken(refresh, 'refresh', host)
    set.refreshToken = refresh
    set.refreshExpiresAt = expiry(
      lifetime(fields.refreshExpiresIn, 'refresh', host),
      refresh,
      DEFAULT_REFRESH_TTL_MS,
      now,
    )
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

/**
 * Longer lifetimes than this are taken as this: a server that says 1e300 seconds would
 * otherwise give a time no Date can hold, and `-f json` would fail on it.
 */
const MAX_LIFETIME_MS = 10 * 365 * 86_400_000

/**
 * A lifetime in seconds as the server sent it (a number, or digits in a string), or
 * undefined when it sent none that can be read (then the JWT `exp` or the default applies).
 * A number that is not finite (`1e400` parses as Infinity) is no lifetime a server means:
 * it is refused rather than read as "for ever" or quietly replaced.
 */
function lifetime(seconds: unknown, kind: string, host: string): number | undefined {
  const value = typeof seconds === 'string' && /^\d+$/.test(seconds) ? Number(seconds) : seconds
  if (typeof value !== 'number') return undefined
  if (!Number.isFinite(value)) {
    throw new ServerError(
      `${host} sent a lifetime for the ${kind} token that is not a finite number of seconds; the answer was refused.`,
      'Nothing was stored. Report this to whoever runs the server.',
    )
  }
  return value >= 0 ? value : undefined
}

function expiry(value: number | undefined, token: string, fallback: number, now: number): number {
  if (value !== undefined) return now + Math.min(value * 1000, MAX_LIFETIME_MS)
  const exp = jwtExpiry(token)
  if (exp !== undefined) return Math.min(Math.max(exp, 0), now + MAX_LIFETIME_MS)
  return now + fallback
}

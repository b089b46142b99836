import { printable } from '../base/env-name.js'
import { ServerError } from '../base/errors.js'
import { rememberSecret, rememberSecrets } from '../base/secrets.js'
import { isSafeToken } from '../util/b64token.js'
import { decodeJwt, jwtExpiry } from '../util/jwt.js'
import type { HttpResponse } from './http.js'
import { CHECK_ENDPOINTS, type Exchange } from './oauth2-errors.js'
import { isObject } from '../util/is-object.js'
import { failure } from './responses.js'
import { toTokenSet } from './token-response.js'
import type { TokenSet } from './types.js'

/** Who asked, and of whom: what a token answer is read against. */
export interface TokenRequest {
  /** The token endpoint's host, as messages name it. */
  host: string
  clientId: string
  /** The secrets the request carried, masked in whatever the server says. */
  sent: readonly (string | undefined)[]
}

/** A token endpoint's answer that is no error answer: the tokens it issued, or why none can be taken. */
export function tokensOf(response: HttpResponse, exchange: Exchange, request: TokenRequest): TokenSet {
  const { host } = request
  const body = response.json
  if (response.status !== 200 || !isObject(body)) throw failure(response, host, request.sent, CHECK_ENDPOINTS)
  // RFC 6749 §5.1: token_type is required. A token of another kind (or of no stated kind)
  // sent as a bearer token would be refused, or worse, accepted where it should not be.
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    // The tokens in it are secrets all the same, refused or not.
    rememberSecrets(body.access_token, body.refresh_token, body.id_token)
    const said =
      typeof body.token_type === 'string'
        ? `a "${printable(body.token_type, 30)}" token`
        : body.token_type === undefined
          ? 'a token without a token_type'
          : 'a token_type that is not a string'
    throw new ServerError(
      `${host} issued ${said}, which tokenctl cannot send as a bearer token; nothing was stored.`,
      'Ask whoever runs the server for a client that gets Bearer tokens.',
    )
  }
  // A token the process holds, kept or not (docs/design.md#secrets-never-leak).
  rememberSecret(body.id_token)
  const set = toTokenSet(
    {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresIn: body.expires_in,
      refreshExpiresIn: body.refresh_expires_in,
      user: userOf(body, exchange, request.clientId),
    },
    host,
  )
  const id = idTokenOf(body.id_token)
  return id ? { ...set, ...id } : set
}

/** Later than any time a Date can hold: an `exp` beyond it is no expiry a store could keep. */
const MAX_TIME_MS = 8.64e15

/**
 * The ID token of a token answer, with its expiry from its own `exp` claim
 * (docs/design.md#kubectl). Decoded, never verified: tokenctl believes nothing in it and
 * only hands it to a server that verifies it (kubectl's API server). One that is not a
 * plain bearer token, or whose `exp` cannot be read, is not kept: it could never be
 * printed safely, or its life never told, so it would never be handed out.
 */
export function idTokenOf(value: unknown): { idToken: string; idExpiresAt: number } | undefined {
  if (typeof value !== 'string' || !isSafeToken(value)) return undefined
  const exp = jwtExpiry(value)
  if (exp === undefined || exp <= 0 || exp > MAX_TIME_MS) return undefined
  return { idToken: value, idExpiresAt: exp }
}

/**
 * docs/design.md#oauth-20-and-openid-connect "who is logged in": the ID token, else a JWT
 * access token (not on refresh: the ID token's name is the better one), else the client.
 */
export function userOf(body: Record<string, unknown>, exchange: Exchange, clientId: string): string | undefined {
  const fromClaims = (token: unknown) => {
    if (typeof token !== 'string') return undefined
    const claims = decodeJwt(token)?.claims
    return [claims?.preferred_username, claims?.email, claims?.sub].find(
      (value): value is string => typeof value === 'string' && value.length > 0,
    )
  }
  return (
    fromClaims(body.id_token) ??
    (exchange === 'refresh' ? undefined : fromClaims(body.access_token)) ??
    (exchange === 'client-credentials' ? clientId : undefined)
  )
}

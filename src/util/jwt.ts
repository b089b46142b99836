import { sanitizeText } from './sanitize.js'
import { isObject } from './is-object.js'

export interface JwtParts {
  header: Record<string, unknown>
  claims: Record<string, unknown>
}

/** Decode (not verify) a JWT; undefined when the token is not one. We only read, never trust for access. */
export function decodeJwt(token: string): JwtParts | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    if (!isObject(header) || !isObject(claims)) return undefined
    return { header, claims }
  } catch {
    return undefined
  }
}

/** The `exp` claim in epoch milliseconds, when the token is a JWT that has one. */
export function jwtExpiry(token: string): number | undefined {
  const exp = decodeJwt(token)?.claims.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
}

/** What a token shows of itself, for `inspect`: never the token, never the signature. */
export type TokenView =
  | { format: 'jwt'; header: Record<string, unknown>; claims: Record<string, unknown> }
  /** An encrypted JWT: the header is readable, the claims are not. */
  | { format: 'jwe'; header: Record<string, unknown> }
  | { format: 'opaque' }

const SEGMENT = /^[A-Za-z0-9_-]*={0,2}$/
/** A JWT larger than this is not one tokenctl would have accepted (docs/design.md#secrets-never-leak: 16 KiB). */
const MAX_TOKEN = 16 * 1024

/**
 * Decode a token for display. Never throws, whatever it is given; every string in the
 * result (keys too) has control and bidi-override characters removed, so a hostile claim
 * cannot move the cursor or rewrite the terminal line it is printed on.
 */
export function viewToken(token: string): TokenView {
  try {
    if (typeof token !== 'string' || token.length > MAX_TOKEN) return { format: 'opaque' }
    const parts = token.split('.')
    if ((parts.length !== 3 && parts.length !== 5) || !parts.every((part) => SEGMENT.test(part)))
      return { format: 'opaque' }
    const header = parseSegment(parts[0]!)
    if (!header) return { format: 'opaque' }
    if (parts.length === 5) return { format: 'jwe', header }
    const claims = parseSegment(parts[1]!)
    return claims ? { format: 'jwt', header, claims } : { format: 'opaque' }
  } catch {
    return { format: 'opaque' }
  }
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  if (segment === '') return undefined
  const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown
  const clean = sanitize(value, 0)
  return isObject(clean) ? clean : undefined
}

const MAX_DEPTH = 8

/** JSON values with every string (keys too) through the one sanitizer of printed text; what nests deeper than MAX_DEPTH becomes "…". */
export function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeText(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '…'
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1))
  // fromEntries defines own properties: a "__proto__" claim stays a claim, not a prototype.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [sanitizeText(key), sanitize(item, depth + 1)]))
}

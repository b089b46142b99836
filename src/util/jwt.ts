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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

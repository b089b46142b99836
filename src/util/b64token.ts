/**
 * RFC 6750 b64token, at most 16 KiB (docs/design.md#secrets-never-leak): nothing a server sends can break a line, a
 * quote or a header. Every token tokenctl hands out passes this, whether it came from a
 * server just now or from a store or cache that someone else could have written.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

export const MAX_TOKEN = 16 * 1024

export function isSafeToken(token: string): boolean {
  return token.length <= MAX_TOKEN && B64TOKEN.test(token)
}

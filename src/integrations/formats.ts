import { shellQuote } from '../util/shell-quote.js'

/** docs/design.md#commands `token -f`: every format is exactly one line ending in "\n". */
export const TOKEN_FORMATS = ['token', 'header', 'json', 'env', 'curl'] as const
export type TokenFormat = (typeof TOKEN_FORMATS)[number]

export interface FormatInput {
  env: string
  accessToken: string
  accessExpiresAt: number
  /** The variable name for `-f env`. */
  variable: string
  now?: number
}

/** The token is a checked RFC 6750 b64token, so it needs no escaping in any of these; `env` quotes it anyway. */
export function formatToken(format: TokenFormat, input: FormatInput): string {
  const token = input.accessToken
  switch (format) {
    case 'token':
      return `${token}\n`
    case 'header':
      return `Authorization: Bearer ${token}\n`
    case 'json': {
      const now = input.now ?? Date.now()
      return `${JSON.stringify({
        env: input.env,
        tokenType: 'Bearer',
        token,
        expiresAt: new Date(input.accessExpiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        expiresIn: Math.max(0, Math.floor((input.accessExpiresAt - now) / 1000)),
      })}\n`
    }
    case 'env':
      return `export ${input.variable}=${shellQuote(token)}\n`
    case 'curl':
      return `header = "Authorization: Bearer ${token}"\n`
  }
}

/** A name a POSIX shell accepts in `export NAME=…`. */
export function isShellVariable(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
}

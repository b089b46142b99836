import type { TokenctlError } from '../base/errors.js'
import type { HttpResponse } from './http.js'
import { type OAuthError, oauthErrorOf } from './oauth2-errors.js'

/** What revocation needs from outside: the revocation endpoint, and how a refusal is told. */
export interface Revocation {
  post(form: Record<string, string>): Promise<HttpResponse>
  /** The answer that refused `token`, with the provider's error answer when it sent one. */
  refused(response: HttpResponse, error: OAuthError | undefined, token: string): TokenctlError
}

/** RFC 7009: the refresh token first (it takes the grant with it at most servers), then the access token. */
export async function revokeTokens(
  tokens: { refreshToken?: string; accessToken?: string },
  revocation: Revocation,
): Promise<void> {
  const pending: Array<[string | undefined, string]> = [
    [tokens.refreshToken, 'refresh_token'],
    [tokens.accessToken, 'access_token'],
  ]
  for (const [token, hint] of pending) {
    if (!token) continue
    const response = await revocation.post({ token, token_type_hint: hint })
    if (response.status >= 200 && response.status < 300) continue
    const error = oauthErrorOf(response)
    // RFC 7009 §2.2.1: a server may decline to revoke access tokens; they expire soon anyway.
    if (error?.code === 'unsupported_token_type' && hint === 'access_token') continue
    throw revocation.refused(response, error, token)
  }
}

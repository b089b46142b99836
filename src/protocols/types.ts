import { LoginRequiredError } from '../core/errors.js'

/** What a login or refresh buys. Times are epoch milliseconds. */
export interface TokenSet {
  accessToken: string
  accessExpiresAt: number
  /** Absent when the server did not send one (a refresh without rotation keeps the old). */
  refreshToken?: string
  refreshExpiresAt?: number
  /** Who is logged in, when the server says. */
  user?: string
}

export interface PasswordCredentials {
  username: string
  password: string
}

/** One protocol module per SPEC §2 protocol; they know HTTP and nothing about storage. */
export interface AuthProtocol {
  login(credentials: PasswordCredentials): Promise<TokenSet>
  /** Rejects with RefreshRejectedError when the server no longer takes the refresh token. */
  refresh(refreshToken: string): Promise<TokenSet>
  /** 'unsupported' when the server has no revocation (SPEC §2.1: warn, delete locally, exit 0). */
  revoke(tokens: { refreshToken?: string; accessToken?: string }): Promise<'revoked' | 'unsupported'>
}

/** The refresh token is gone (expired, revoked, rotated away): a login is needed, unless §6 credentials can do it. */
export class RefreshRejectedError extends LoginRequiredError {}

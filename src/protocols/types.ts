import type { PasswordCredentials } from '../base/credentials.js'
import { LoginRequiredError } from '../base/errors.js'

/** What a login or refresh buys. Times are epoch milliseconds. */
export interface TokenSet {
  accessToken: string
  accessExpiresAt: number
  /** Absent when the server did not send one (a refresh without rotation keeps the old). */
  refreshToken?: string
  refreshExpiresAt?: number
  /** Who is logged in, when the server says. */
  user?: string
  /**
   * The OpenID Connect ID token the answer carried (oauth2 with the `openid` scope), and its
   * `exp` claim in epoch ms: what `kube-credential --id-token` hands out (docs/design.md#kubectl).
   */
  idToken?: string
  idExpiresAt?: number
}

export type { PasswordCredentials } from '../base/credentials.js'

/** docs/design.md#oauth-20-and-openid-connect `login --flow`; `password` is also the api protocol's only way in. */
export type LoginFlow = 'device' | 'browser' | 'password' | 'client-credentials'

export const LOGIN_FLOWS: readonly LoginFlow[] = ['device', 'browser', 'password', 'client-credentials']

/** What the device flow asks a person to do (RFC 8628 §3.2). */
export interface DevicePrompt {
  verificationUri: string
  verificationUriComplete?: string
  userCode: string
  expiresAt: number
}

/**
 * How a person takes part in a flow. The protocol knows nothing of terminals: the command
 * says how to show a code or open a page, and when to give up.
 */
export interface Interaction {
  /** Ctrl-C: stop waiting, clean up, store nothing. */
  signal?: AbortSignal
  showDeviceCode?: (prompt: DevicePrompt) => void
  /** Called with the authorization URL; opening a browser is the caller's business. */
  openBrowser?: (url: string) => void
  /** The browser flow gives up after this long (default 5 min). */
  timeoutMs?: number
  /** The server wants a client secret it was not given, or refused the stored one: ask for it. */
  askClientSecret?: (reason: 'missing' | 'rejected') => Promise<string>
}

/** A login: the flow, and what it needs (docs/design.md#oauth-20-and-openid-connect). */
export interface LoginRequest {
  flow: LoginFlow
  /** The password flow's user name and password. */
  credentials?: PasswordCredentials
  /** Device and browser flows need a person; the others may ask one for a client secret. */
  interaction?: Interaction
}

/** An OAuth 2.0 client secret and where it came from: one from a variable is never stored (docs/design.md#credentials-from-variables). */
export interface ClientSecret {
  value: string
  from: 'variable' | 'store' | 'person'
}

/** One protocol module per protocol (docs/design.md#protocols); they know HTTP and nothing about storage. */
export interface AuthProtocol {
  /** The flow used when `login` is given none (docs/design.md#oauth-20-and-openid-connect: device when the server has it, else password). */
  defaultFlow(): Promise<LoginFlow>
  login(request: LoginRequest): Promise<TokenSet>
  /** Rejects with RefreshRejectedError when the server no longer takes the refresh token. */
  refresh(refreshToken: string): Promise<TokenSet>
  /** 'unsupported' when the server has no revocation (docs/design.md#the-api-protocol: warn, delete locally, exit 0). */
  revoke(tokens: { refreshToken?: string; accessToken?: string }): Promise<'revoked' | 'unsupported'>
  /** The client secret a person typed during the last login, to be kept in the store. */
  typedClientSecret?(): string | undefined
}

/** The refresh token is gone (expired, revoked, rotated away): a login is needed, unless credentials from variables can do it. */
export class RefreshRejectedError extends LoginRequiredError {}

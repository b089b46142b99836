import { printable } from '../base/env-name.js'
import {
  CredentialsRejectedError,
  LoginRequiredError,
  ServerError,
  type TokenctlError,
  UsageError,
} from '../base/errors.js'
import type { HttpResponse } from './http.js'
import { isObject } from '../util/is-object.js'
import { serverText } from './responses.js'
import { RefreshRejectedError } from './types.js'

/** Which exchange an answer belongs to: RFC 6749 §5.2's `invalid_grant` means different things for each. */
export type Exchange = 'password' | 'client-credentials' | 'code' | 'device' | 'refresh'

/** The provider's own error answer: its `error` code, and the `error_description` when it sent one. */
export interface OAuthError {
  code: string
  description?: string
}

/** What an answer that is no OAuth answer at all tells the person to check (responses.ts `failure`). */
export const CHECK_ENDPOINTS = 'issuer or endpoints'

const GRANT_NAMES: Record<Exchange, string> = {
  password: 'password login',
  'client-credentials': 'client-credentials grant',
  code: 'authorization code',
  device: 'device code',
  refresh: 'refresh token',
}

/**
 * The provider's own error answer (RFC 6749 §5.2): a 4xx whose body is a JSON object
 * with an `error` code string. Only that counts as the provider's word: a proxy's or
 * firewall's page is text or HTML, and a gateway's JSON (`{"message":"Forbidden"}`) has
 * no `error` code, so neither can pass for `invalid_grant` and delete a login. Unlike
 * the api protocol, no content type is required here: providers vary in what they label
 * their JSON (text/plain, text/javascript or none), and the `error` code is part of the
 * standard answer that a proxy's page does not imitate by chance.
 */
export function oauthErrorOf(response: HttpResponse): OAuthError | undefined {
  if (response.status < 400 || response.status >= 500 || !isObject(response.json)) return undefined
  const { error, error_description: description } = response.json
  if (typeof error !== 'string' || !error) return undefined
  return { code: error, description: typeof description === 'string' ? description : undefined }
}

/** What the messages of a refused request name, as it stood when the answer came. */
export interface RefusedRequest {
  envName: string
  clientId: string
  /** A client secret was sent: an `invalid_client` then points at the secret as well as the id. */
  hasSecret: boolean
  /** The scope the request stood for, as an `invalid_scope` names it. */
  scope: string | undefined
  /** The host that refused; read only by the messages that name it. */
  host: () => string
  /** The secrets the request carried: a description that quotes one back gets it masked. */
  sent: readonly (string | undefined)[]
}

/** RFC 6749 §5.2 as docs/design.md#oauth-20-and-openid-connect maps it to exit codes, with the server's words (minus anything we sent). */
export function mapOAuthError(error: OAuthError, exchange: Exchange, request: RefusedRequest): TokenctlError {
  const { envName, host: at } = request
  const code = printable(error.code, 60)
  const says = `: ${code}${error.description ? ` ("${serverText(error.description, request.sent, 160)}")` : ''}`
  const again = `Run: tokenctl login -e ${envName}`
  switch (error.code) {
    case 'invalid_client':
    case 'unauthorized_client':
      return new CredentialsRejectedError(
        `${at()} did not accept the client "${printable(request.clientId, 80)}" of "${envName}"${says}.`,
        request.hasSecret
          ? 'Check the client id and secret (TOKENCTL_CLIENT_SECRET, or log in again on a terminal to type it).'
          : 'Check --client-id; a confidential client also needs its secret: set TOKENCTL_CLIENT_SECRET, or log in on a terminal to type it.',
      )
    case 'access_denied':
      return new CredentialsRejectedError(
        `The login to "${envName}" was denied${says}.`,
        `${again}, and approve the request.`,
      )
    case 'invalid_grant':
      if (exchange === 'refresh')
        return new RefreshRejectedError(`${at()} no longer accepts the refresh token of "${envName}"${says}.`, again)
      if (exchange === 'password') {
        return new CredentialsRejectedError(
          `${at()} rejected the user name or password for "${envName}"${says}.`,
          `Check them and run: tokenctl login -e ${envName}`,
        )
      }
      return new CredentialsRejectedError(
        `${at()} refused the ${GRANT_NAMES[exchange]} of "${envName}"${says}.`,
        `${again} once more.`,
      )
    case 'expired_token':
      return new LoginRequiredError(
        `The device code for "${envName}" expired before the login was approved; nothing was stored.`,
        `${again} again, and approve it in time.`,
      )
    case 'invalid_scope':
      return new UsageError(
        `${at()} refused the scope "${printable(request.scope ?? '', 120)}"${says}.`,
        `Change it: tokenctl env add ${envName} … --scope "SCOPES" --force`,
      )
    case 'unsupported_grant_type':
      return new UsageError(
        `${at()} does not allow the ${GRANT_NAMES[exchange]} for this client${says}.`,
        exchange === 'refresh'
          ? `${again}.`
          : 'Pick another flow with --flow (device, browser, password, client-credentials).',
      )
    case 'invalid_request':
      return new UsageError(
        `${at()} refused the request of "${envName}"${says}.`,
        `Check the env's settings ("tokenctl env show ${envName}").`,
      )
    default:
      return new ServerError(
        `${at()} refused the ${GRANT_NAMES[exchange]} of "${envName}"${says}.`,
        'Try again later; if it persists, report it to whoever runs the server.',
      )
  }
}

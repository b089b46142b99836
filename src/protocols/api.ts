import { printable } from '../core/env-name.js'
import { API_PATHS, type Env } from '../core/env-settings.js'
import { CredentialsRejectedError, ServerError } from '../core/errors.js'
import { type HttpOptions, type HttpResponse, postJson } from '../util/http.js'
import { redact } from '../util/redact.js'
import { toTokenSet } from './token-response.js'
import { type AuthProtocol, type PasswordCredentials, RefreshRejectedError, type TokenSet } from './types.js'

/** SPEC §2.1: the JSON login API. */
export function apiProtocol(env: Env & { url: string }, http: HttpOptions): AuthProtocol {
  const endpoint = (path: string) => new URL(path.replace(/^\//, ''), env.url.endsWith('/') ? env.url : `${env.url}/`).toString()
  const host = new URL(env.url).host
  const post = (path: string, body: unknown) => postJson(endpoint(path), body, http)

  return {
    async login(credentials: PasswordCredentials): Promise<TokenSet> {
      const response = await post(env.tokenPath ?? API_PATHS.tokenPath, { username: credentials.username, password: credentials.password })
      if (isOk(response)) return { user: credentials.username, ...tokenSet(response, host) }
      if ([400, 401, 403].includes(response.status)) {
        throw new CredentialsRejectedError(
          `${host} rejected the user name or password for "${env.name}"${serverSays(response, [credentials.password])}.`,
          `Check them and run: tokenctl login -e ${env.name}`,
        )
      }
      throw failure(response, host, [credentials.password])
    },

    async refresh(refreshToken: string): Promise<TokenSet> {
      const response = await post(env.refreshPath ?? API_PATHS.refreshPath, { refreshToken })
      if (isOk(response)) return tokenSet(response, host)
      if ([400, 401, 403].includes(response.status)) {
        throw new RefreshRejectedError(`${host} no longer accepts the refresh token of "${env.name}"${serverSays(response, [refreshToken])}.`, `Run: tokenctl login -e ${env.name}`)
      }
      throw failure(response, host, [refreshToken])
    },

    async revoke(tokens): Promise<'revoked' | 'unsupported'> {
      if (!tokens.refreshToken) return 'revoked'
      const response = await post(env.revokePath ?? API_PATHS.revokePath, { refreshToken: tokens.refreshToken })
      if (response.status >= 200 && response.status < 300) return 'revoked'
      if (response.status === 404) return 'unsupported'
      throw failure(response, host, [tokens.refreshToken])
    },
  }
}

function isOk(response: HttpResponse): boolean {
  return response.status === 200 || response.status === 201
}

/** `{"data": {...}}` or the same fields at the top level. */
function tokenSet(response: HttpResponse, host: string): TokenSet {
  const body = response.json
  if (!isObject(body)) throw new ServerError(`${host} sent an answer that is not JSON (${describeBody(response)}).`, 'Check the URL and paths of the env ("tokenctl env show").')
  const fields = isObject(body.data) ? body.data : body
  return toTokenSet({ accessToken: fields.token, refreshToken: fields.refreshToken, expiresIn: fields.expiresIn, refreshExpiresIn: fields.refreshExpiresIn }, host)
}

function failure(response: HttpResponse, host: string, secrets: string[]): ServerError {
  if (response.status >= 500) return new ServerError(`${host} failed with HTTP ${response.status}${serverSays(response, secrets)}.`, 'Try again later.')
  if (response.status >= 300 && response.status < 400) {
    return new ServerError(`${host} answered with a redirect (HTTP ${response.status}), which tokenctl does not follow for token requests.`, 'Point the env at the final URL ("tokenctl env add NAME --url URL --force").')
  }
  return new ServerError(`${host} answered HTTP ${response.status}${serverSays(response, secrets)}.`, 'Check the URL and paths of the env ("tokenctl env show").')
}

/** A short, printable version of the server's own message, when it sent one in JSON, without what we sent it. */
function serverSays(response: HttpResponse, secrets: string[]): string {
  const body = response.json
  if (!isObject(body)) return ''
  const inner = isObject(body.error) ? body.error : body
  const message = [inner.message, inner.error_description, inner.error].find((value) => typeof value === 'string' && value.length > 0) as string | undefined
  return message ? `: "${printable(redact(message, secrets), 120)}"` : ''
}

function describeBody(response: HttpResponse): string {
  if (response.contentType) return `HTTP ${response.status}, ${printable(response.contentType.split(';')[0] ?? '', 40)}`
  return `HTTP ${response.status}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

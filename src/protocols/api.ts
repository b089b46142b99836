import { printable } from '../base/env-name.js'
import { API_PATHS, type Env } from '../base/env-settings.js'
import { CredentialsRejectedError, UsageError } from '../base/errors.js'
import { type HttpOptions, type HttpResponse, postJson } from './http.js'
import { isObject } from '../util/is-object.js'
import { failure, isJsonBody, serverSays } from './responses.js'
import { toTokenSet } from './token-response.js'
import { type AuthProtocol, type LoginRequest, RefreshRejectedError, type TokenSet } from './types.js'

const CHECK = 'URL and paths'

/** docs/design.md#the-api-protocol: the JSON login API. */
export function apiProtocol(env: Env & { url: string }, http: HttpOptions): AuthProtocol {
  const origin = new URL(env.url).origin
  const endpoint = (path: string) => {
    const url = new URL(path.replace(/^\//, ''), env.url.endsWith('/') ? env.url : `${env.url}/`)
    // `env add` takes paths only, but a hand-edited config could hold a whole URL here, and
    // the login's password or refresh token would follow it to another host.
    if (url.origin !== origin) {
      throw new UsageError(
        `The env "${env.name}" has a path that leads off ${origin}: ${printable(path, 120)}.`,
        `Give a path that starts with "/": tokenctl env add ${env.name} --url ${origin} … --force`,
      )
    }
    return url.toString()
  }
  const host = new URL(env.url).host
  const post = (path: string, body: unknown) => postJson(endpoint(path), body, http)

  return {
    defaultFlow: async () => 'password',

    async login(request: LoginRequest): Promise<TokenSet> {
      const { credentials } = request
      if (request.flow !== 'password' || !credentials) {
        throw new UsageError(
          `The api protocol of "${env.name}" logs in with a user name and password only, not --flow ${request.flow}.`,
          'Leave --flow out, or add the env with --protocol oauth2.',
        )
      }
      const response = await post(env.tokenPath ?? API_PATHS.tokenPath, {
        username: credentials.username,
        password: credentials.password,
      })
      if (isOk(response)) return { user: credentials.username, ...tokenSet(response, host) }
      if (isRejection(response)) {
        throw new CredentialsRejectedError(
          `${host} rejected the user name or password for "${env.name}"${serverSays(response, [credentials.password])}.`,
          `Check them and run: tokenctl login -e ${env.name}`,
        )
      }
      throw failure(response, host, [credentials.password], CHECK)
    },

    async refresh(refreshToken: string): Promise<TokenSet> {
      const response = await post(env.refreshPath ?? API_PATHS.refreshPath, { refreshToken })
      if (isOk(response)) return tokenSet(response, host)
      if (isRejection(response)) {
        throw new RefreshRejectedError(
          `${host} no longer accepts the refresh token of "${env.name}"${serverSays(response, [refreshToken])}.`,
          `Run: tokenctl login -e ${env.name}`,
        )
      }
      throw failure(response, host, [refreshToken], CHECK)
    },

    async revoke(tokens): Promise<'revoked' | 'unsupported'> {
      if (!tokens.refreshToken) return 'revoked'
      const response = await post(env.revokePath ?? API_PATHS.revokePath, { refreshToken: tokens.refreshToken })
      if (response.status >= 200 && response.status < 300) return 'revoked'
      if (response.status === 404) return 'unsupported'
      throw failure(response, host, [tokens.refreshToken], CHECK)
    },
  }
}

/**
 * The server's own "no": a 400, 401 or 403 whose body is the api's JSON error object.
 *
 * A rejection has consequences a failure has not: the stored login (a still-valid access
 * token included) is deleted, and it counts toward the failed-attempts warning. A WAF,
 * proxy or load balancer between us and the server answers 403 or 401 with its own page,
 * so the status alone proves nothing; and some of them answer in JSON too: AWS API
 * Gateway, ALB and Kong send `403 application/json {"message":"Forbidden"}`. The rule: the
 * answer says it is JSON (`application/json` or `application/*+json`), its body parses to
 * a JSON object, and that object carries the api's `error` (a non-empty code string, or an
 * object with details). A `message` alone is what every gateway sends and proves nothing.
 * Anything else with any status is a server failure (exit 5) that deletes nothing.
 */
function isRejection(response: HttpResponse): boolean {
  if (![400, 401, 403].includes(response.status) || !isJsonBody(response)) return false
  const body = response.json
  if (!isObject(body)) return false
  const text = (value: unknown) => typeof value === 'string' && value.length > 0
  return text(body.error) || isObject(body.error)
}

function isOk(response: HttpResponse): boolean {
  return response.status === 200 || response.status === 201
}

/** `{"data": {...}}` or the same fields at the top level. */
function tokenSet(response: HttpResponse, host: string): TokenSet {
  const body = response.json
  if (!isObject(body)) throw failure(response, host, [], CHECK)
  const fields = isObject(body.data) ? body.data : body
  return toTokenSet(
    {
      accessToken: fields.token,
      refreshToken: fields.refreshToken,
      expiresIn: fields.expiresIn,
      refreshExpiresIn: fields.refreshExpiresIn,
    },
    host,
  )
}

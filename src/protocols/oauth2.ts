import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'
import { CredentialsRejectedError, InterruptedError, LoginRequiredError, ServerError, type TokenctlError, UsageError } from '../base/errors.js'
import { rememberSecret, rememberSecrets } from '../base/secrets.js'
import { type HttpOptions, type HttpResponse, postForm, UnreachableError } from './http.js'
import { decodeJwt } from '../util/jwt.js'
import { type DiscoveredEndpoints, discover, type EndpointMove, endpointMoves, PlainHttpEndpointError } from './oauth2-discovery.js'
import { failure, isObject, serverText } from './responses.js'
import { toTokenSet } from './token-response.js'
import { type AuthProtocol, type ClientSecret, type DevicePrompt, type Interaction, type LoginFlow, type LoginRequest, RefreshRejectedError, type TokenSet } from './types.js'

export interface OAuth2Options {
  http: HttpOptions
  clientId: string
  clientSecret?: ClientSecret
  /**
   * Discovery found other endpoints after a kept one stopped answering, and a request to
   * the new one then succeeded: say so, and keep them (the config, for a saved env).
   * Never called for a move that was only tried: a new endpoint is kept once it has
   * proved to be a working one.
   */
  onRediscovered?: (found: DiscoveredEndpoints, moves: EndpointMove[]) => Promise<void>
}

type Endpoint = 'tokenUrl' | 'deviceUrl' | 'authorizeUrl' | 'revokeUrl'

/** Which exchange an answer belongs to: RFC 6749 §5.2's `invalid_grant` means different things for each. */
type Exchange = 'password' | 'client-credentials' | 'code' | 'device' | 'refresh'

interface OAuthError {
  code: string
  description?: string
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8628 §3.2's defaults, and the bounds a provider's numbers are held to. */
const DEFAULT_INTERVAL_S = 5
const DEFAULT_DEVICE_EXPIRY_S = 600
const MIN_INTERVAL_MS = 1000
const MAX_INTERVAL_MS = 60_000
/** RFC 8628 §3.5: a `slow_down` answer adds this to the interval for this and every later poll. */
const SLOW_DOWN_MS = 5000
const MAX_DEVICE_EXPIRY_MS = 30 * 60_000
const CHECK = 'issuer or endpoints'

/**
 * How long the device flow waits between polls, whatever the provider asked for (its
 * `interval`, and every `slow_down` after it): at least a second and at most a minute. A
 * huge interval would overflow the timer, which then fires at once and hammers the
 * provider; a tiny one hammers it anyway.
 */
export function pollInterval(ms: number): number {
  return Math.min(Math.max(ms, MIN_INTERVAL_MS), MAX_INTERVAL_MS)
}

/** docs/design.md#oauth-20-and-openid-connect: OAuth 2.0 / OpenID Connect. */
export function oauth2Protocol(env: Env, options: OAuth2Options): AuthProtocol {
  const { http, clientId } = options
  let endpoints: Partial<Record<Endpoint, string>> = { tokenUrl: env.tokenUrl, deviceUrl: env.deviceUrl, authorizeUrl: env.authorizeUrl, revokeUrl: env.revokeUrl }
  let clientAuth = env.clientAuth
  let defaultScope = env.defaultScope
  let secret = options.clientSecret
  let typed: string | undefined

  /** The secret fields of the last request: a server that quotes them back must not get them printed (docs/design.md#secrets-never-leak). */
  let carried: Array<string | undefined> = []
  /** Endpoints a rediscovery moved to for this run, not yet kept: kept once a request there succeeds. */
  let unconfirmed: { found: DiscoveredEndpoints; moves: EndpointMove[] } | undefined

  const tokenHost = () => new URL(endpoints.tokenUrl ?? env.issuer ?? 'https://server').host
  const host = tokenHost
  const deviceHost = () => new URL(endpoints.deviceUrl ?? endpoints.tokenUrl ?? 'https://server').host
  const revokeHost = () => new URL(endpoints.revokeUrl ?? endpoints.tokenUrl ?? 'https://server').host
  const sent = () => [secret?.value, ...carried]
  const personScope = () => env.scope ?? defaultScope

  // An endpoint the document lacks keeps what the env had: it may have been given by hand (GitLab's device URL).
  const apply = (found: DiscoveredEndpoints) => {
    endpoints = {
      tokenUrl: found.tokenUrl,
      deviceUrl: found.deviceUrl ?? endpoints.deviceUrl,
      authorizeUrl: found.authorizeUrl ?? endpoints.authorizeUrl,
      revokeUrl: found.revokeUrl ?? endpoints.revokeUrl,
    }
    clientAuth = env.clientAuth ?? found.clientAuth
    defaultScope = found.defaultScope
  }

  /** An env made from TOKENCTL_ISSUER has nothing kept: discover for this run. */
  async function ready(): Promise<void> {
    if (endpoints.tokenUrl) return
    if (!env.issuer) throw new UsageError(`The oauth2 env "${env.name}" has neither an issuer nor a token endpoint.`, `Add it again: tokenctl env add ${env.name} --issuer URL --client-id ID --force`)
    apply(await discover(env.issuer, http, env.allowHttp))
  }

  /** RFC 6749 §2.3.1: Basic with form-encoded id and secret, or both in the body; a public client sends its id only. */
  function clientAuthentication(): { body: Record<string, string>; headers: Record<string, string> } {
    if (!secret) return { body: { client_id: clientId }, headers: {} }
    // A server (or proxy) that quotes the request back may quote the pair or the Basic
    // header, not only the secret alone: every form of it is masked wherever it is printed.
    rememberSecret(`${clientId}:${secret.value}`)
    if (clientAuth === 'post') return { body: { client_id: clientId, client_secret: secret.value }, headers: {} }
    const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)
    const pair = `${encode(clientId)}:${encode(secret.value)}`
    const basic = Buffer.from(pair).toString('base64')
    rememberSecret(pair)
    rememberSecret(basic)
    return { body: {}, headers: { authorization: `Basic ${basic}` } }
  }

  /**
   * POST a form to an endpoint. A discovered endpoint that is gone (never reached, or 404)
   * gets discovery run again, and the request is sent once more to the new one: neither
   * failure can have changed anything at the server.
   */
  async function post(endpoint: Endpoint, form: Record<string, string>): Promise<HttpResponse> {
    await ready()
    carried = [form.password, form.refresh_token, form.device_code, form.code, form.code_verifier, form.token]
    const url = endpoints[endpoint]!
    const send = (target: string) => {
      const auth = clientAuthentication()
      return postForm(target, { ...form, ...auth.body }, http, auth.headers)
    }
    let response: HttpResponse
    try {
      response = await send(url)
      if (response.status === 404 && (await rediscovered(endpoint, url))) response = await send(endpoints[endpoint]!)
    } catch (error) {
      if (!(error instanceof UnreachableError) || !(await rediscovered(endpoint, url))) throw error
      response = await send(endpoints[endpoint]!)
    }
    await confirm(endpoint, response)
    return response
  }

  /** A rediscovery may only confirm endpoints on the issuer's origin or the one kept (endpointMoves); other moves stop here, before any request. */
  async function rediscovered(endpoint: Endpoint, old: string): Promise<boolean> {
    if (!env.issuer || !(env.discoveredAt || env.fromVariables)) return false
    let found: DiscoveredEndpoints
    try {
      found = await discover(env.issuer, http, env.allowHttp)
    } catch (error) {
      // A document that cannot be had leaves the first failure to be told; one that names
      // plain http for an https issuer is told itself, since nothing is sent there.
      if (error instanceof PlainHttpEndpointError) throw error
      return false
    }
    if (!found[endpoint] || found[endpoint] === old) return false
    const moves = endpointMoves({ name: env.name, issuer: env.issuer, clientId, saved: !env.fromVariables }, endpoints, found)
    apply(found)
    unconfirmed = { found, moves }
    return true
  }

  /** The first answer that is a success from a moved endpoint makes the move one to keep. */
  async function confirm(endpoint: Endpoint, response: HttpResponse): Promise<void> {
    if (!unconfirmed || response.status < 200 || response.status >= 300) return
    if (!unconfirmed.moves.some((move) => move.endpoint === endpoint)) return
    const { found, moves } = unconfirmed
    unconfirmed = undefined
    await options.onRediscovered?.(found, moves)
  }

  /** A person at a terminal may supply the secret the server asks for; one from a variable is not second-guessed. */
  async function askForSecret(interaction: Interaction | undefined): Promise<boolean> {
    if (!interaction?.askClientSecret || secret?.from === 'variable') return false
    const value = await interaction.askClientSecret(secret ? 'rejected' : 'missing')
    if (!value) return false
    secret = { value, from: 'person' }
    typed = value
    return true
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
  function errorOf(response: HttpResponse): OAuthError | undefined {
    if (response.status < 400 || response.status >= 500 || !isObject(response.json)) return undefined
    const { error, error_description: description } = response.json
    if (typeof error !== 'string' || !error) return undefined
    return { code: error, description: typeof description === 'string' ? description : undefined }
  }

  /** RFC 6749 §5.2 as docs/design.md#oauth-20-and-openid-connect maps it to exit codes, with the server's words (minus anything we sent). */
  function mapError(error: OAuthError, exchange: Exchange, at = tokenHost): TokenctlError {
    const code = printable(error.code, 60)
    const says = `: ${code}${error.description ? ` ("${serverText(error.description, sent(), 160)}")` : ''}`
    const again = `Run: tokenctl login -e ${env.name}`
    switch (error.code) {
      case 'invalid_client':
      case 'unauthorized_client':
        return new CredentialsRejectedError(
          `${at()} did not accept the client "${printable(clientId, 80)}" of "${env.name}"${says}.`,
          secret
            ? 'Check the client id and secret (TOKENCTL_CLIENT_SECRET, or log in again on a terminal to type it).'
            : 'Check --client-id; a confidential client also needs its secret: set TOKENCTL_CLIENT_SECRET, or log in on a terminal to type it.',
        )
      case 'access_denied':
        return new CredentialsRejectedError(`The login to "${env.name}" was denied${says}.`, `${again}, and approve the request.`)
      case 'invalid_grant':
        if (exchange === 'refresh') return new RefreshRejectedError(`${at()} no longer accepts the refresh token of "${env.name}"${says}.`, again)
        if (exchange === 'password') return new CredentialsRejectedError(`${at()} rejected the user name or password for "${env.name}"${says}.`, `Check them and run: tokenctl login -e ${env.name}`)
        return new CredentialsRejectedError(`${at()} refused the ${GRANT_NAMES[exchange]} of "${env.name}"${says}.`, `${again} once more.`)
      case 'expired_token':
        return new LoginRequiredError(`The device code for "${env.name}" expired before the login was approved; nothing was stored.`, `${again} again, and approve it in time.`)
      case 'invalid_scope':
        return new UsageError(`${at()} refused the scope "${printable((exchange === 'client-credentials' ? env.scope : personScope()) ?? '', 120)}"${says}.`, `Change it: tokenctl env add ${env.name} … --scope "SCOPES" --force`)
      case 'unsupported_grant_type':
        return new UsageError(`${at()} does not allow the ${GRANT_NAMES[exchange]} for this client${says}.`, exchange === 'refresh' ? `${again}.` : 'Pick another flow with --flow (device, browser, password, client-credentials).')
      case 'invalid_request':
        return new UsageError(`${at()} refused the request of "${env.name}"${says}.`, `Check the env's settings ("tokenctl env show ${env.name}").`)
      default:
        return new ServerError(`${at()} refused the ${GRANT_NAMES[exchange]} of "${env.name}"${says}.`, 'Try again later; if it persists, report it to whoever runs the server.')
    }
  }

  function tokensOf(response: HttpResponse, exchange: Exchange): TokenSet {
    const body = response.json
    if (response.status !== 200 || !isObject(body)) throw failure(response, host(), sent(), CHECK)
    // RFC 6749 §5.1: token_type is required. A token of another kind (or of no stated kind)
    // sent as a bearer token would be refused, or worse, accepted where it should not be.
    if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      // The tokens in it are secrets all the same, refused or not.
      rememberSecrets(body.access_token, body.refresh_token, body.id_token)
      const said = typeof body.token_type === 'string' ? `a "${printable(body.token_type, 30)}" token` : body.token_type === undefined ? 'a token without a token_type' : 'a token_type that is not a string'
      throw new ServerError(`${host()} issued ${said}, which tokenctl cannot send as a bearer token; nothing was stored.`, 'Ask whoever runs the server for a client that gets Bearer tokens.')
    }
    // The ID token is not kept, but it is a token the process holds (docs/design.md#secrets-never-leak).
    rememberSecret(body.id_token)
    return toTokenSet(
      { accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in, refreshExpiresIn: body.refresh_expires_in, user: userOf(body, exchange) },
      host(),
    )
  }

  /** docs/design.md#oauth-20-and-openid-connect "who is logged in": the ID token, else a JWT access token (not on refresh: the ID token's name is the better one), else the client. */
  function userOf(body: Record<string, unknown>, exchange: Exchange): string | undefined {
    const fromClaims = (token: unknown) => {
      if (typeof token !== 'string') return undefined
      const claims = decodeJwt(token)?.claims
      return [claims?.preferred_username, claims?.email, claims?.sub].find((value): value is string => typeof value === 'string' && value.length > 0)
    }
    return fromClaims(body.id_token) ?? (exchange === 'refresh' ? undefined : fromClaims(body.access_token)) ?? (exchange === 'client-credentials' ? clientId : undefined)
  }

  /** One token request; an `invalid_client` a person can fix is asked about once. */
  async function exchange(kind: Exchange, form: Record<string, string>, interaction?: Interaction): Promise<TokenSet> {
    for (let asked = false; ; asked = true) {
      const response = await post('tokenUrl', form)
      const error = errorOf(response)
      if (!error) return tokensOf(response, kind)
      if (error.code === 'invalid_client' && !asked && (await askForSecret(interaction))) continue
      throw mapError(error, kind)
    }
  }

  async function deviceLogin(interaction: Interaction): Promise<TokenSet> {
    await ready()
    if (!endpoints.deviceUrl) {
      throw new UsageError(`The server of "${env.name}" has no device authorization endpoint.`, `Use --flow browser or --flow password, or add the env again with --device-url URL.`)
    }
    const scope = personScope()
    let response: HttpResponse
    for (let asked = false; ; asked = true) {
      response = await post('deviceUrl', scope ? { scope } : {})
      const error = errorOf(response)
      if (!error) break
      if (error.code === 'invalid_client' && !asked && (await askForSecret(interaction))) continue
      throw mapError(error, 'device', deviceHost)
    }
    const prompt = devicePrompt(response, Date.now())
    interaction.showDeviceCode?.(prompt.shown)

    let interval = prompt.intervalMs
    while (Date.now() < prompt.shown.expiresAt) {
      await sleep(interval, interaction.signal)
      const answer = await post('tokenUrl', { grant_type: DEVICE_GRANT, device_code: prompt.deviceCode })
      const error = errorOf(answer)
      if (!error) return tokensOf(answer, 'device')
      if (error.code === 'authorization_pending') continue
      // RFC 8628 §3.5: slow_down adds 5 s to the interval for this and every later poll, within the bounds.
      if (error.code === 'slow_down') {
        interval = pollInterval(interval + SLOW_DOWN_MS)
        continue
      }
      throw mapError(error, 'device')
    }
    throw mapError({ code: 'expired_token' }, 'device')
  }

  function devicePrompt(response: HttpResponse, now: number): { shown: DevicePrompt; deviceCode: string; intervalMs: number } {
    const body = response.json
    const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined)
    if (response.status !== 200 || !isObject(body)) throw failure(response, deviceHost(), sent(), CHECK)
    const deviceCode = text(body.device_code)
    // It buys tokens until it expires: a secret like them (docs/design.md#secrets-never-leak); the user code is shown on purpose.
    rememberSecret(deviceCode)
    const userCode = text(body.user_code)
    // Google says verification_url, as drafts of RFC 8628 did.
    const verificationUri = text(body.verification_uri) ?? text(body.verification_url)
    if (!deviceCode || !userCode || !verificationUri || !isWebUrl(verificationUri)) {
      throw new ServerError(`${deviceHost()} sent a device authorization answer tokenctl cannot use.`, 'Use --flow browser or --flow password instead.')
    }
    const complete = text(body.verification_uri_complete)
    const expiresIn = seconds(body.expires_in, 'expires_in', DEFAULT_DEVICE_EXPIRY_S)
    const interval = seconds(body.interval, 'interval', DEFAULT_INTERVAL_S)
    return {
      shown: {
        // Shown as the URL parser reads them: a space or a line break cannot make one look like two.
        verificationUri: printable(new URL(verificationUri).href, 500),
        verificationUriComplete: complete && isWebUrl(complete) ? printable(new URL(complete).href, 500) : undefined,
        userCode: printable(userCode, 40),
        // A code that lasts longer than this is polled for no longer: a login nobody approves in 30 minutes is not coming.
        expiresAt: now + Math.min(expiresIn * 1000, MAX_DEVICE_EXPIRY_MS),
      },
      deviceCode,
      intervalMs: pollInterval(interval * 1000),
    }
  }

  /** A number of seconds from the device answer: the default when absent or not positive; never Infinity (JSON's 1e400). */
  function seconds(value: unknown, field: string, fallback: number): number {
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    if (typeof number !== 'number' || Number.isNaN(number) || number <= 0) return fallback
    if (!Number.isFinite(number)) {
      throw new ServerError(`${deviceHost()} sent a device authorization answer whose ${field} is not a finite number; nothing was stored.`, 'Report this to whoever runs the server, or use --flow browser or --flow password instead.')
    }
    return number
  }

  async function browserLogin(interaction: Interaction): Promise<TokenSet> {
    await ready()
    if (!endpoints.authorizeUrl) {
      throw new UsageError(`The server of "${env.name}" has no authorization endpoint.`, 'Use --flow device or --flow password, or add the env again with --authorize-url URL.')
    }
    const { authorizeInBrowser } = await import('./oauth2-browser.js')
    const granted = await authorizeInBrowser({
      authorizeUrl: endpoints.authorizeUrl,
      clientId,
      scope: personScope(),
      envName: env.name,
      interaction,
      mapError: (code, description) => mapError({ code, description }, 'code'),
    })
    return exchange('code', { grant_type: 'authorization_code', code: granted.code, redirect_uri: granted.redirectUri, code_verifier: granted.codeVerifier }, interaction)
  }

  async function clientCredentials(interaction?: Interaction): Promise<TokenSet> {
    if (!secret && !(await askForSecret(interaction))) {
      throw new LoginRequiredError(
        `The client-credentials flow of "${env.name}" needs the secret of client "${printable(clientId, 80)}".`,
        `Set TOKENCTL_CLIENT_SECRET (or TOKENCTL_${env.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLIENT_SECRET), or run on a terminal: tokenctl login -e ${env.name} --flow client-credentials`,
      )
    }
    return exchange('client-credentials', { grant_type: 'client_credentials', ...(env.scope ? { scope: env.scope } : {}) }, interaction)
  }

  return {
    async defaultFlow(): Promise<LoginFlow> {
      await ready()
      return endpoints.deviceUrl ? 'device' : 'password'
    },

    async login(request: LoginRequest): Promise<TokenSet> {
      const { interaction } = request
      switch (request.flow) {
        case 'password': {
          const { username, password } = request.credentials ?? { username: '', password: '' }
          const scope = personScope()
          return exchange('password', { grant_type: 'password', username, password, ...(scope ? { scope } : {}) }, interaction)
        }
        case 'client-credentials':
          return clientCredentials(interaction)
        case 'device':
          return deviceLogin(interaction ?? {})
        case 'browser':
          return browserLogin(interaction ?? {})
      }
    },

    async refresh(refreshToken: string): Promise<TokenSet> {
      // No scope: the grant keeps the scope it was given (RFC 6749 §6).
      return exchange('refresh', { grant_type: 'refresh_token', refresh_token: refreshToken })
    },

    /** RFC 7009: the refresh token first (it takes the grant with it at most servers), then the access token. */
    async revoke(tokens): Promise<'revoked' | 'unsupported'> {
      await ready()
      if (!endpoints.revokeUrl) return 'unsupported'
      const pending: Array<[string | undefined, string]> = [
        [tokens.refreshToken, 'refresh_token'],
        [tokens.accessToken, 'access_token'],
      ]
      for (const [token, hint] of pending) {
        if (!token) continue
        const response = await post('revokeUrl', { token, token_type_hint: hint })
        if (response.status >= 200 && response.status < 300) continue
        const error = errorOf(response)
        // RFC 7009 §2.2.1: a server may decline to revoke access tokens; they expire soon anyway.
        if (error?.code === 'unsupported_token_type' && hint === 'access_token') continue
        // The host that failed is the revocation endpoint's, which need not be the token endpoint's.
        throw error ? mapError(error, 'refresh', revokeHost) : failure(response, revokeHost(), [...sent(), token], CHECK)
      }
      return 'revoked'
    },

    typedClientSecret: () => typed,
  }
}

const GRANT_NAMES: Record<Exchange, string> = {
  password: 'password login',
  'client-credentials': 'client-credentials grant',
  code: 'authorization code',
  device: 'device code',
  refresh: 'refresh token',
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stopped = () => {
      clearTimeout(timer)
      reject(new InterruptedError('The login was stopped; nothing was stored.'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stopped)
      resolve()
    }, ms)
    if (signal?.aborted) return stopped()
    signal?.addEventListener('abort', stopped, { once: true })
  })
}

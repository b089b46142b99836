/**
 * A real OAuth 2.0 / OpenID Connect server for tokenctl's `oauth2` tests (docs/design.md#oauth-20-and-openid-connect).
 *
 * It is `oidc-provider` (the certified Node implementation) started in-process on
 * 127.0.0.1, so discovery, client authentication, PKCE, the device flow, refresh-token
 * rotation with reuse detection, RFC 7009 revocation and RFC 7662 introspection behave as
 * a real server's do, rather than as a fake's author assumed. Around it, only what a test
 * needs and a real server has no reason to offer:
 *
 * - automatic interactions: the provider's login and consent pages are replaced by a
 *   middleware that signs `accountId` in and grants every requested scope, so `browse()`
 *   (a redirect-following client with a cookie jar) ends at the client's redirect_uri;
 * - `approveDevice` / `denyDevice`, acting as the user on the verification page;
 * - the RFC 6749 §4.3 `password` grant, which oidc-provider dropped, registered as an
 *   extension grant that issues tokens the way the built-in grants do;
 * - a device-authorization `interval` (oidc-provider sends none, so clients would wait 5 s)
 *   and an optional `slow_down` on the first device poll;
 * - broken discovery modes and RFC 8414's path-inserted discovery URL;
 * - `requests`: what the client sent to the token, device and revocation endpoints.
 */
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto'
import http from 'node:http'
import type { Socket } from 'node:net'

import type {
  Account,
  Adapter,
  AdapterFactory,
  AdapterPayload,
  Configuration,
  JWK,
  KoaContextWithOIDC,
  TokenEndpointGrantContext,
  UnknownObject,
} from 'oidc-provider'
import type Provider from 'oidc-provider'

import { listenOnLoopback } from './listen.js'

// ---- public constants -----------------------------------------------------------------

/** Public native client: authorization code + PKCE (any loopback port), device flow, refresh. */
export const CLI_CLIENT_ID = 'tokenctl-cli'
/** Its registered redirect URI; RFC 8252 §7.3 lets the port vary. */
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback'
/** Confidential client, `client_secret_basic`, `client_credentials` only, scope `api:read`. */
export const SERVICE_CLIENT_ID = 'tokenctl-service'
export const SERVICE_CLIENT_SECRET = 'service-secret-0123456789abcdef'
/** Confidential client, `client_secret_post` only, grants `password` and `refresh_token`. */
export const POST_CLIENT_ID = 'tokenctl-post'
export const POST_CLIENT_SECRET = 'post-secret-0123456789abcdef'
/** Public client with grants `password` and `refresh_token`. */
export const PASSWORD_CLIENT_ID = 'tokenctl-pw'
/** Used by `introspect()`; not meant for tokenctl. */
export const INTROSPECTOR_CLIENT_ID = 'tokenctl-introspector'
export const INTROSPECTOR_CLIENT_SECRET = 'introspector-secret-0123456789abcdef'

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** Scopes the server knows besides `openid`/`offline_access`; `tokenctl-service` may only ask for `api:read`. */
export const API_SCOPES = ['api:read', 'api:write'] as const
/** The resource (audience) of JWT access tokens when `accessTokenFormat: 'jwt'`. */
export const API_RESOURCE = 'https://api.tokenctl.test/'

// ---- public types ---------------------------------------------------------------------

/**
 * - `ok`: `{issuer}/.well-known/openid-configuration` and RFC 8414's
 *   `/.well-known/oauth-authorization-server{issuerPath}` both serve the metadata.
 * - `missing-oidc`: the OpenID one is 404; the RFC 8414 one still serves the metadata.
 * - `not-json`: the OpenID one is a 200 HTML page; the RFC 8414 one still serves the metadata.
 * - `missing-all`: every discovery URL is 404.
 * - `wrong-issuer`: both serve metadata whose `issuer` is `{origin}/someone-else`.
 */
export type DiscoveryMode = 'ok' | 'missing-oidc' | 'not-json' | 'missing-all' | 'wrong-issuer'

export interface OidcServerOptions {
  /** Path of the issuer, e.g. `/realms/test`, so the RFC 8414 path-inserted URL differs. Default none. */
  issuerPath?: string
  /** Default `ok`; `setDiscovery` changes it later. */
  discovery?: DiscoveryMode
  /** Who the automatic login signs in, and `approveDevice`'s default. Default `alice`. */
  accountId?: string
  /** Password-grant users, username → password. Default `{ alice: 'wonderland' }`. */
  users?: Record<string, string>
  /** Access-token (and client-credentials token) lifetime in seconds. Default 1800. */
  accessTokenTtl?: number
  /** Refresh-token lifetime in seconds. Default 14 days. */
  refreshTokenTtl?: number
  /** Device-code lifetime in seconds (`expires_in` of the device authorization). Default 600. */
  deviceCodeTtl?: number
  /** `interval` of the device authorization response, in seconds. Default 1. */
  deviceInterval?: number
  /** Answer the first device-code token poll with `slow_down` (400), before looking at the code. */
  slowDownOnce?: boolean
  /** Every refresh returns a new refresh token and consumes the old one. Default true. */
  rotateRefreshTokens?: boolean
  /**
   * `opaque` (default) or `jwt`: JWT access tokens come from oidc-provider's resource
   * indicators, for the single resource `API_RESOURCE`; their `scope` then holds only the
   * API scopes (`openid`, `offline_access` stay in the grant, not in the token).
   */
  accessTokenFormat?: 'opaque' | 'jwt'
}

/** One request to the token, device authorization or revocation endpoint. */
export interface TokenEndpointRequest {
  /** The path the client used (with the issuer path), without the query string. */
  path: string
  /** `token`, `device_authorization` or `revocation`. */
  endpoint: 'token' | 'device_authorization' | 'revocation'
  /** `grant_type` of a token request; undefined elsewhere. */
  grantType: string | undefined
  /** `basic` when an `Authorization: Basic` header came, else `post` when the body had `client_secret`. */
  clientAuth: 'basic' | 'post' | 'none'
  /** The form body as sent (a repeated parameter keeps its last value); `{}` when it was not a form. */
  body: Record<string, string>
  headers: http.IncomingHttpHeaders
  /** HTTP status of the answer. */
  status: number
  /** Epoch ms when the request arrived. */
  at: number
}

export interface BrowseOptions {
  /** Sign this account in instead of the server's `accountId`. */
  accountId?: string
  /** Refuse consent: the client gets `error=access_denied` at its redirect URI. */
  deny?: boolean
}

export interface BrowseResult {
  /** The redirect URI with the provider's query (`code`, `state`, `iss` or `error`). */
  callbackUrl: string
  /** The callback server's answer. */
  status: number
  body: string
}

/** RFC 7662 answer; `active: false` alone for a token that is unknown, used up or revoked. */
export interface Introspection {
  active: boolean
  [claim: string]: unknown
}

export interface OidcServer {
  /** `http://127.0.0.1:PORT{issuerPath}`, no trailing slash. */
  readonly issuer: string
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string
  /** Endpoints, for tests that give them one by one instead of discovery. */
  readonly endpoints: {
    discovery: string
    oauthDiscovery: string
    authorization: string
    token: string
    deviceAuthorization: string
    revocation: string
    introspection: string
    jwks: string
  }
  /** Every request to the token, device authorization and revocation endpoints, in order. */
  readonly requests: TokenEndpointRequest[]
  /** The oidc-provider instance, for what the helpers do not cover. */
  readonly provider: Provider
  /** How many token requests had this `grant_type`. */
  count(grantType: string): number
  setDiscovery(mode: DiscoveryMode): void
  /**
   * Act as the browser: follow the authorization URL's redirects with a cookie jar through
   * login and consent, then GET the client's redirect URI and return its answer.
   */
  browse(authorizeUrl: string, options?: BrowseOptions): Promise<BrowseResult>
  /** Like `browse`, but stop at the redirect URI without requesting it; returns that URL. */
  browseTo(authorizeUrl: string, options?: BrowseOptions): Promise<string>
  /** The user enters `userCode` and approves, as `accountId` (default the server's). */
  approveDevice(userCode: string, accountId?: string): Promise<void>
  /** The user enters `userCode` and refuses: the next poll gets `access_denied`. */
  denyDevice(userCode: string): Promise<void>
  /** The provider's own RFC 7662 answer for `token`. */
  introspect(token: string, tokenTypeHint?: 'access_token' | 'refresh_token'): Promise<Introspection>
  /** Stops listening and ends every open socket. */
  close(): Promise<void>
}

// ---- internals ------------------------------------------------------------------------

type ProviderModule = typeof import('oidc-provider')
type Middleware = Parameters<Provider['use']>[0]
/** `params` and `duplicates` of `Provider.registerGrantType`. */
type GrantRegistrationRest = [
  params?: string | readonly string[] | ReadonlySet<string>,
  duplicates?: string | readonly string[] | ReadonlySet<string>,
]

const DEFAULT_USERS: Record<string, string> = { alice: 'wonderland' }
const KNOWN_SCOPES: string[] = ['openid', 'offline_access', 'profile', 'email', ...API_SCOPES]
const ACCOUNT_HEADER = 'x-oidc-test-account'
const DENY_HEADER = 'x-oidc-test-deny'
const OIDC_DISCOVERY = '/.well-known/openid-configuration'
const OAUTH_DISCOVERY = '/.well-known/oauth-authorization-server'
/** oidc-provider's default routes, relative to the issuer. */
const ROUTES = {
  authorization: '/auth',
  token: '/token',
  device_authorization: '/device/auth',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  jwks: '/jwks',
} as const
const LOGGED_ROUTES = new Map<string, TokenEndpointRequest['endpoint']>([
  [ROUTES.token, 'token'],
  [ROUTES.device_authorization, 'device_authorization'],
  [ROUTES.revocation, 'revocation'],
])

let providerModule: Promise<ProviderModule> | undefined

/**
 * Imports oidc-provider once. Its entry point warns on any runtime older than Node 22;
 * tokenctl runs on Node 20 where it works, so that one warning is kept out of test output.
 */
function loadOidcProvider(): Promise<ProviderModule> {
  providerModule ??= (async () => {
    const warn = console.warn
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).includes('Unsupported runtime')) warn(...args)
    }
    try {
      return await import('oidc-provider')
    } finally {
      console.warn = warn
    }
  })()
  return providerModule
}

const epochSeconds = (): number => Math.floor(Date.now() / 1000)

export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const config = {
    issuerPath: normalizeIssuerPath(options.issuerPath ?? ''),
    accountId: options.accountId ?? 'alice',
    users: options.users ?? DEFAULT_USERS,
    accessTokenTtl: options.accessTokenTtl ?? 1800,
    refreshTokenTtl: options.refreshTokenTtl ?? 14 * 24 * 3600,
    deviceCodeTtl: options.deviceCodeTtl ?? 600,
    deviceInterval: options.deviceInterval ?? 1,
    slowDownOnce: options.slowDownOnce ?? false,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    jwt: options.accessTokenFormat === 'jwt',
  }
  let discovery: DiscoveryMode = options.discovery ?? 'ok'
  let slowDownPending = config.slowDownOnce
  const requests: TokenEndpointRequest[] = []

  const { default: ProviderClass, errors } = await loadOidcProvider()

  // The port is only known once listening, and the issuer needs it: listen first and
  // attach the provider before anyone can know where to connect.
  const sockets = new Set<Socket>()
  const server = http.createServer()
  const { url: origin } = await listenOnLoopback(server, sockets)
  const issuer = origin + config.issuerPath

  /**
   * Wraps the built-in device_code grant so `slowDownOnce` can answer before the code is
   * looked at; registerGrantType is how oidc-provider installs its own grants, so this
   * catches them as they are registered in the constructor.
   */
  class TestProvider extends ProviderClass {
    override registerGrantType<Params extends object = UnknownObject>(
      name: string,
      grantHandler: (ctx: TokenEndpointGrantContext<Params>) => void | Promise<void>,
      ...rest: GrantRegistrationRest
    ): void {
      if (name !== DEVICE_CODE_GRANT) return super.registerGrantType(name, grantHandler, ...rest)
      const withSlowDown = async (ctx: TokenEndpointGrantContext<Params>) => {
        if (slowDownPending) {
          slowDownPending = false
          throw new errors.SlowDown()
        }
        return grantHandler(ctx)
      }
      super.registerGrantType(name, withSlowDown, ...rest)
    }
  }

  const configuration: Configuration = {
    adapter: memoryAdapter(),
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
        redirect_uris: [CLI_REDIRECT_URI],
      },
      {
        client_id: SERVICE_CLIENT_ID,
        client_secret: SERVICE_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'api:read',
      },
      {
        client_id: POST_CLIENT_ID,
        client_secret: POST_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['password', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: PASSWORD_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['password', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: INTROSPECTOR_CLIENT_ID,
        client_secret: INTROSPECTOR_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    scopes: KNOWN_SCOPES,
    // With `openid` alone the ID token already names the user (docs/design.md#oauth-20-and-openid-connect `status`).
    claims: {
      openid: ['sub', 'preferred_username', 'email', 'email_verified'],
      profile: ['preferred_username'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => accountFor(sub),
    interactions: { url: (_ctx, interaction) => `${config.issuerPath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client revokes only its own tokens.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) =>
          client.clientId === INTROSPECTOR_CLIENT_ID || token.clientId === client.clientId,
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, out) =>
          page(
            ctx,
            'Enter the code',
            `${out ? `<p>${out.error}</p>` : ''}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
          ),
        userCodeConfirmSource: (ctx, form, _client, _info, userCode) =>
          page(
            ctx,
            'Confirm the device',
            `<p>${userCode}</p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`,
          ),
        successSource: (ctx) => page(ctx, 'Signed in', '<p>You can close this window.</p>'),
      },
      ...(config.jwt
        ? {
            userinfo: { enabled: false },
            resourceIndicators: {
              enabled: true,
              defaultResource: () => API_RESOURCE,
              useGrantedResource: () => true,
              getResourceServerInfo: () => ({
                scope: API_SCOPES.join(' '),
                audience: API_RESOURCE,
                accessTokenFormat: 'jwt' as const,
                accessTokenTTL: config.accessTokenTtl,
              }),
            },
          }
        : {}),
    },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    // Every client allowed the refresh_token grant gets one, offline_access or not.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: config.rotateRefreshTokens,
    expiresWithSession: () => false,
    clientBasedCORS: () => true,
    renderError: (ctx, out) => {
      ctx.type = 'html'
      ctx.body = `<!DOCTYPE html><html><body><h1>${escapeHtml(out.error)}</h1><p>${escapeHtml(out.error_description ?? '')}</p></body></html>`
    },
    ttl: {
      AccessToken: config.accessTokenTtl,
      ClientCredentials: config.accessTokenTtl,
      RefreshToken: config.refreshTokenTtl,
      DeviceCode: config.deviceCodeTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: config.refreshTokenTtl + 3600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
    },
  }

  let provider: Provider
  try {
    provider = new TestProvider(issuer, configuration)
  } catch (err) {
    server.close()
    throw err
  }
  provider.registerGrantType('password', passwordGrant(provider, errors, config.users, config.jwt), [
    'username',
    'password',
    'scope',
  ])

  // Koa middlewares, in this order, all before oidc-provider's router.
  provider.use(mountUnderIssuerPath(config.issuerPath))
  provider.use(async (ctx, next) => {
    const kind = ctx.path === OIDC_DISCOVERY ? 'oidc' : ctx.path === OAUTH_DISCOVERY ? 'oauth' : undefined
    if (kind === undefined) return next()
    if (discovery === 'missing-all' || (discovery === 'missing-oidc' && kind === 'oidc')) {
      ctx.status = 404
      ctx.body = 'Not Found'
      return
    }
    if (discovery === 'not-json' && kind === 'oidc') {
      ctx.status = 200
      ctx.type = 'html'
      ctx.body = '<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>'
      return
    }
    await next()
    if (discovery === 'wrong-issuer' && isRecord(ctx.body)) ctx.body = { ...ctx.body, issuer: `${origin}/someone-else` }
  })
  provider.use(async (ctx, next) => {
    const endpoint = LOGGED_ROUTES.get(ctx.path)
    if (endpoint === undefined || ctx.method !== 'POST') return next()
    const at = Date.now()
    try {
      await next()
    } finally {
      // oidc-provider has parsed the whole form by now (before dropping what the grant
      // ignores); a request refused before reaching it left its form in ctx.state.
      const body = formFields(
        (ctx as unknown as KoaContextWithOIDC).oidc?.body ?? (ctx.state as { form?: UnknownObject }).form,
      )
      const authorization = ctx.get('authorization')
      requests.push({
        path: ctx.originalUrl.split('?')[0] ?? '',
        endpoint,
        grantType: endpoint === 'token' ? body.grant_type : undefined,
        clientAuth: /^basic /i.test(authorization) ? 'basic' : body.client_secret !== undefined ? 'post' : 'none',
        body,
        headers: ctx.req.headers,
        status: ctx.status,
        at,
      })
    }
    // oidc-provider has no setting for RFC 8628's `interval`; clients default to 5 s without it.
    if (endpoint === 'device_authorization' && ctx.status === 200 && isRecord(ctx.body)) {
      ctx.body = { ...ctx.body, interval: config.deviceInterval }
    }
  })
  provider.use(refuseBasicForPostClients([POST_CLIENT_ID]))
  provider.use(automaticInteractions(provider, config.accountId))

  server.on('request', provider.callback())

  // ---- helpers for tests ---------------------------------------------------------------

  async function findDeviceCode(userCode: string) {
    // oidc-provider stores user codes upper-cased without separators.
    const code = await provider.DeviceCode.findByUserCode(userCode.toUpperCase().replace(/\W/g, ''))
    if (!code) throw new Error(`no pending device authorization has user code ${userCode}`)
    if (code.accountId !== undefined || code.error !== undefined)
      throw new Error(`user code ${userCode} was already approved or denied`)
    return code
  }

  async function approveDevice(userCode: string, accountId = config.accountId): Promise<void> {
    const code = await findDeviceCode(userCode)
    const scope = typeof code.params?.scope === 'string' ? code.params.scope : ''
    const grant = new provider.Grant({ accountId, clientId: code.clientId })
    if (scope) grant.addOIDCScope(scope)
    if (config.jwt) {
      grant.addResourceScope(API_RESOURCE, API_SCOPES.join(' '))
      code.resource = API_RESOURCE
    }
    // What oidc-provider's own verification page stores once the user has confirmed.
    Object.assign(code, { accountId, grantId: await grant.save(), authTime: epochSeconds(), scope })
    await code.save()
  }

  async function denyDevice(userCode: string): Promise<void> {
    const code = await findDeviceCode(userCode)
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User aborted interaction' })
    await code.save()
  }

  async function browseTo(authorizeUrl: string, browseOptions: BrowseOptions = {}): Promise<string> {
    const jar = new CookieJar()
    const headers: Record<string, string> = {}
    if (browseOptions.accountId !== undefined) headers[ACCOUNT_HEADER] = browseOptions.accountId
    if (browseOptions.deny) headers[DENY_HEADER] = '1'
    let current = new URL(authorizeUrl)
    for (let hop = 0; hop < 20; hop++) {
      // Leaving the provider means the provider is sending the browser back to the client.
      if (current.origin !== origin) return current.href
      const res = await fetch(current, { redirect: 'manual', headers: { ...headers, cookie: jar.header(current) } })
      jar.store(res.headers.getSetCookie(), current)
      const body = await res.text()
      const location = res.headers.get('location')
      if (res.status < 300 || res.status >= 400 || location === null) {
        throw new Error(`browse: ${current.href} answered ${res.status} instead of redirecting: ${body.slice(0, 500)}`)
      }
      current = new URL(location, current)
    }
    throw new Error(`browse: more than 20 redirects from ${authorizeUrl}`)
  }

  const endpoints = {
    discovery: issuer + OIDC_DISCOVERY,
    oauthDiscovery: origin + OAUTH_DISCOVERY + config.issuerPath,
    authorization: issuer + ROUTES.authorization,
    token: issuer + ROUTES.token,
    deviceAuthorization: issuer + ROUTES.device_authorization,
    revocation: issuer + ROUTES.revocation,
    introspection: issuer + ROUTES.introspection,
    jwks: issuer + ROUTES.jwks,
  }

  return {
    issuer,
    origin,
    endpoints,
    requests,
    provider,
    count: (grantType) => requests.filter((r) => r.grantType === grantType).length,
    setDiscovery(mode) {
      discovery = mode
    },
    browseTo,
    async browse(authorizeUrl, browseOptions) {
      const callbackUrl = await browseTo(authorizeUrl, browseOptions)
      const res = await fetch(callbackUrl, { redirect: 'manual' })
      return { callbackUrl, status: res.status, body: await res.text() }
    },
    approveDevice,
    denyDevice,
    async introspect(token, tokenTypeHint) {
      const form = new URLSearchParams({ token })
      if (tokenTypeHint !== undefined) form.set('token_type_hint', tokenTypeHint)
      const res = await fetch(endpoints.introspection, {
        method: 'POST',
        headers: { authorization: basicAuth(INTROSPECTOR_CLIENT_ID, INTROSPECTOR_CLIENT_SECRET) },
        body: form,
      })
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`)
      return (await res.json()) as Introspection
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}

// ---- provider extensions --------------------------------------------------------------

/**
 * Serves the provider under the issuer's path, as a reverse proxy would, and answers
 * RFC 8414's `/.well-known/oauth-authorization-server{issuerPath}` with the provider's
 * metadata. oidc-provider builds its URLs from `req.originalUrl` minus `req.url`, so
 * setting both keeps every URL in its answers under the issuer.
 */
function mountUnderIssuerPath(issuerPath: string): Middleware {
  return async (ctx, next) => {
    if (issuerPath === '') return next()
    let inner: string | undefined
    if (ctx.path === OAUTH_DISCOVERY + issuerPath) inner = OAUTH_DISCOVERY
    else if (ctx.path.startsWith(`${issuerPath}/`)) inner = ctx.path.slice(issuerPath.length)
    if (inner === undefined) {
      ctx.status = 404
      ctx.body = 'Not Found'
      return
    }
    ctx.path = inner
    ;(ctx.req as http.IncomingMessage & { originalUrl?: string }).originalUrl = issuerPath + ctx.url
    return next()
  }
}

/**
 * oidc-provider takes `client_secret_basic` and `client_secret_post` interchangeably from
 * a client registered for either; a server that supports only `client_secret_post` refuses
 * the Basic header, which is what tokenctl's `--client-auth` and discovery logic must cope
 * with (docs/design.md#oauth-20-and-openid-connect). So these clients get `invalid_client` for a Basic header anywhere.
 */
function refuseBasicForPostClients(clientIds: string[]): Middleware {
  return async (ctx, next) => {
    const match = /^basic\s+(\S+)$/i.exec(ctx.get('authorization'))
    if (ctx.method !== 'POST' || !match?.[1]) return next()
    const decoded = Buffer.from(match[1], 'base64').toString('utf8')
    const clientId = decodeURIComponent(decoded.slice(0, Math.max(decoded.indexOf(':'), 0)).replace(/\+/g, ' '))
    if (!clientIds.includes(clientId)) return next()
    // Nothing downstream reads the body now; keep it for the request log.
    ;(ctx.state as { form?: UnknownObject }).form = Object.fromEntries(new URLSearchParams(await readBody(ctx.req)))
    ctx.status = 401
    ctx.set('www-authenticate', 'Basic realm="tokenctl-test"')
    ctx.body = { error: 'invalid_client', error_description: 'client authentication must use client_secret_post' }
  }
}

/**
 * Stands in for the login and consent pages: signs the account in (the server's, or the
 * `x-oidc-test-account` header's) and grants whatever the client asked for, or refuses
 * with `access_denied` when the `x-oidc-test-deny` header is set.
 */
function automaticInteractions(provider: Provider, defaultAccountId: string): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next()
    let returnTo: string
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res)
      const { prompt, params } = details
      const accountId = ctx.get(ACCOUNT_HEADER) || defaultAccountId
      if (ctx.get(DENY_HEADER)) {
        returnTo = await provider.interactionResult(
          ctx.req,
          ctx.res,
          { error: 'access_denied', error_description: 'End-User denied the request' },
          { mergeWithLastSubmission: false },
        )
      } else if (prompt.name === 'login') {
        returnTo = await provider.interactionResult(
          ctx.req,
          ctx.res,
          { login: { accountId } },
          { mergeWithLastSubmission: false },
        )
      } else if (prompt.name === 'consent') {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session?.accountId, clientId: String(params.client_id) })
        if (!grant) throw new Error(`grant ${details.grantId} not found`)
        const missing = prompt.details as {
          missingOIDCScope?: string[]
          missingOIDCClaims?: string[]
          missingResourceScopes?: Record<string, string[]>
        }
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope)
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
        for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
          grant.addResourceScope(resource, scopes)
        const grantId = await grant.save()
        returnTo = await provider.interactionResult(
          ctx.req,
          ctx.res,
          { consent: details.grantId ? {} : { grantId } },
          { mergeWithLastSubmission: true },
        )
      } else {
        throw new Error(`unexpected prompt ${prompt.name}`)
      }
    } catch (err) {
      ctx.status = 400
      ctx.type = 'text'
      ctx.body = `interaction failed: ${err instanceof Error ? err.message : String(err)}`
      return
    }
    ctx.status = 303
    ctx.redirect(returnTo)
  }
}

/**
 * RFC 6749 §4.3, registered with `provider.registerGrantType` since oidc-provider dropped
 * it. Issues what the built-in grants issue: a Grant holding the scopes, an AccessToken, a
 * RefreshToken when the client may refresh, and an ID token when `openid` was asked for.
 */
function passwordGrant(
  provider: Provider,
  errors: ProviderModule['errors'],
  users: Record<string, string>,
  jwt: boolean,
): (ctx: TokenEndpointGrantContext<{ username?: string; password?: string }>) => Promise<void> {
  return async (ctx) => {
    const { username, password, scope } = ctx.oidc.params
    if (!username || !password) throw new errors.InvalidRequest('missing required parameter(s) (username,password)')
    if (!Object.hasOwn(users, username) || users[username] !== password)
      throw new errors.InvalidGrant('invalid resource owner credentials')

    const { client } = ctx.oidc
    const requested = new Set(scope ? scope.split(' ') : [])
    if (client.scope) {
      const allowed = new Set(client.scope.split(' '))
      for (const s of requested) if (!allowed.has(s)) throw new errors.InvalidScope('requested scope is not allowed', s)
    }

    // Like consent would: every requested scope the server knows is granted.
    const grant = new provider.Grant({ accountId: username, clientId: client.clientId })
    const known = [...requested].filter((s) => KNOWN_SCOPES.includes(s))
    if (known.length) grant.addOIDCScope(known)
    if (jwt) grant.addResourceScope(API_RESOURCE, known.filter(isApiScope))
    const grantId = await grant.save()
    const grantedScope = grant.getOIDCScopeFiltered(requested)
    const authTime = epochSeconds()

    const at = new provider.AccessToken({ accountId: username, client, grantId, gty: 'password', scope: grantedScope })
    if (jwt) {
      at.resourceServer = new provider.ResourceServer(API_RESOURCE, {
        scope: API_SCOPES.join(' '),
        audience: API_RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: at.expiration,
      })
      at.scope = grant.getResourceScopeFiltered(API_RESOURCE, requested)
    }
    ctx.oidc.entity('AccessToken', at)
    const accessToken = await at.save()

    let refreshToken: string | undefined
    if (client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: username,
        client,
        grantId,
        gty: 'password',
        scope: known.join(' '),
        authTime,
        rotations: 0,
        ...(jwt ? { resource: API_RESOURCE } : {}),
      })
      ctx.oidc.entity('RefreshToken', rt)
      refreshToken = await rt.save()
    }

    let idToken: string | undefined
    if (requested.has('openid')) {
      const account = accountFor(username)
      ctx.oidc.entity('Account', account)
      const claims = await account.claims('id_token', grant.getOIDCScopeFiltered(requested), {}, [])
      const token = new provider.IdToken({ ...claims, sub: username, auth_time: authTime }, { ctx })
      Object.assign(token, { scope: grant.getOIDCScopeFiltered(requested), mask: {}, rejected: [] })
      idToken = await token.issue({ use: 'idtoken' })
    }

    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      token_type: at.tokenType,
      scope: at.scope || undefined,
      refresh_token: refreshToken,
      id_token: idToken,
    }
  }
}

// ---- small helpers --------------------------------------------------------------------

function isApiScope(scope: string): boolean {
  return (API_SCOPES as readonly string[]).includes(scope)
}

/** Any account id exists (the server is a fixture); its claims let `status` name the user. */
function accountFor(sub: string): Account {
  return {
    accountId: sub,
    claims: () => ({ sub, preferred_username: sub, email: `${sub}@example.test`, email_verified: true }),
  }
}

/**
 * A store per server, so no test sees another's tokens. oidc-provider checks expiry
 * itself, so nothing here expires; everything goes when the server does.
 */
function memoryAdapter(): AdapterFactory {
  const records = new Map<string, AdapterPayload>()
  const byGrant = new Map<string, Set<string>>()
  const byUserCode = new Map<string, string>()
  const byUid = new Map<string, string>()
  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`
    return {
      async upsert(id, payload) {
        records.set(key(id), payload)
        if (payload.grantId) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>()
          byGrant.set(payload.grantId, members.add(key(id)))
        }
        if (payload.userCode) byUserCode.set(payload.userCode, key(id))
        if (model === 'Session' && payload.uid) byUid.set(payload.uid, key(id))
      },
      async find(id) {
        return records.get(key(id))
      },
      async findByUserCode(userCode) {
        const found = byUserCode.get(userCode)
        return found === undefined ? undefined : records.get(found)
      },
      async findByUid(uid) {
        const found = byUid.get(uid)
        return found === undefined ? undefined : records.get(found)
      },
      async consume(id) {
        const record = records.get(key(id))
        if (record) record.consumed = epochSeconds()
      },
      async destroy(id) {
        records.delete(key(id))
      },
      async revokeByGrantId(grantId) {
        for (const member of byGrant.get(grantId) ?? []) records.delete(member)
        byGrant.delete(grantId)
      },
    }
  }
}

let rsaKey: Promise<JWK> | undefined

/**
 * The RS256 signing key (ID tokens, JWT access tokens), so oidc-provider does not fall
 * back to its published development keys (and warn). Generating one takes up to a second,
 * so a process makes one and every server signs with it; each server's tokens still name
 * its own issuer (its port), so they cannot pass for another's.
 */
function signingKey(): Promise<JWK> {
  rsaKey ??= new Promise<JWK>((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _publicKey, privateKey) => {
      if (err) return reject(err)
      resolve({ ...(privateKey.export({ format: 'jwk' }) as JWK), kid: randomUUID(), alg: 'RS256', use: 'sig' })
    })
  })
  return rsaKey
}

/** Simple cookie jar for `browse`: one origin, Path matching, deletion by expiry. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>()

  store(setCookies: string[], url: URL): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/'
      let expired = false
      for (const attribute of attributes) {
        const [rawKey = '', ...rest] = attribute.split('=')
        const key = rawKey.trim().toLowerCase()
        const attrValue = rest.join('=').trim()
        if (key === 'path' && attrValue.startsWith('/')) path = attrValue
        if (key === 'max-age' && Number(attrValue) <= 0) expired = true
        if (key === 'expires' && Date.parse(attrValue) <= Date.now()) expired = true
      }
      const id = `${name};${path}`
      if (expired) this.cookies.delete(id)
      else this.cookies.set(id, { name, value, path })
    }
  }

  header(url: URL): string {
    const matches = (path: string) =>
      url.pathname === path ||
      (url.pathname.startsWith(path) && (path.endsWith('/') || url.pathname[path.length] === '/'))
    return [...this.cookies.values()]
      .filter((cookie) => matches(cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ')
  }
}

function normalizeIssuerPath(path: string): string {
  if (path === '' || path === '/') return ''
  const withSlash = path.startsWith('/') ? path : `/${path}`
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash
}

function basicAuth(id: string, secret: string): string {
  // RFC 6749 §2.3.1: form-encode each part before base64.
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}

function formFields(body: UnknownObject | undefined): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [name, value] of Object.entries(body ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (typeof last === 'string') fields[name] = last
  }
  return fields
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

function page(ctx: KoaContextWithOIDC, title: string, content: string): void {
  ctx.type = 'html'
  ctx.body = `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1>${content}</body></html>`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * A fake `api` login server (docs/design.md#the-api-protocol) for integration and e2e tests.
 *
 * Only Node built-ins, so it behaves the same everywhere and a test can see exactly what
 * tokenctl sent (`server.requests`). It models what real servers do that a client can get
 * wrong: refresh-token rotation with reuse detection, JWT vs opaque tokens, server-side
 * revocation, clock-driven expiry, and the broken answers of docs/design.md#the-api-protocol, docs/design.md#transport (5xx HTML,
 * malformed or wrong-shape JSON, hangs, dropped sockets).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import http from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

import { listenOnLoopback } from './listen.js'

/** Ways the server can misbehave on the next matching POST(s). */
export type FailureMode =
  | 'html500' // 500 with an HTML page, as a proxy or crashed app would send
  | 'malformedJson' // 200, application/json, but the body is cut short
  | 'wrongShape' // 200 with valid JSON that is not a token response
  | 'noToken' // 200 with a refreshToken but no access token
  | 'hang' // never answers (until the server closes): exercises client timeouts
  | 'drop' // destroys the socket without answering
  | 'huge' // 200 with a 2 MiB JSON body: a client must cut it off, not buffer it
  | 'redirect' // 307 elsewhere (by default plain http): a client must not follow it
  | 'echo' // 400 whose error message repeats the whole request body, secrets and all
  | 'echoHtml' // 500 with an HTML page that repeats the request body and headers
  | 'echoEncoded' // 500 JSON error repeating the refresh token or password base64-, base64url- and percent-encoded, and the body in base64
  | `html:${number}` // that status with an HTML page, as a WAF or proxy in front of the server sends (`html:403`)
  | `status:${number}` // that status with a JSON error body
  | `gateway:${number}` // that status with `{"message":"Forbidden"}` in application/json, as AWS API Gateway, ALB or Kong in front of the server send

/**
 * One of every kind of failure, for tests that must cover them all (the leak test):
 * a mode added to FailureMode belongs here too.
 */
export const FAILURE_MODES: readonly FailureMode[] = [
  'html500',
  'malformedJson',
  'wrongShape',
  'noToken',
  'hang',
  'drop',
  'huge',
  'redirect',
  'echo',
  'echoHtml',
  'echoEncoded',
  'html:401',
  'html:403',
  'status:400',
  'status:401',
  'status:404',
  'status:429',
  'status:503',
  'gateway:403',
]

export interface FailureOptions {
  /** Only POSTs to this path fail; default: any POST. */
  path?: string
  /**
   * Handle the request normally first (log in, rotate, revoke) and then fail the answer.
   * Models "the request reached the server but the response was lost" (docs/design.md#transport), where
   * a refresh token may already have rotated.
   */
  afterHandling?: boolean
  /** The error message of a `status:N` failure (default "Injected status N"): text from a server, hostile or not. */
  message?: string
}

export interface ApiServerOptions {
  /** username → password. Default `{ alice: 'wonderland' }`. */
  users?: Record<string, string>
  /** `jwt`: HS256 with a random key (claims sub, iat, exp, jti). `opaque`: random base64url. */
  tokenFormat?: 'jwt' | 'opaque'
  /** Access-token lifetime in seconds. Default 1800. */
  accessTtl?: number
  /** Refresh-token lifetime in seconds. Default 604800 (7 days). */
  refreshTtl?: number
  /** Include `expiresIn`/`refreshExpiresIn`. Default true; false makes clients read JWT `exp`. */
  sendExpiresIn?: boolean
  /** Wrap the token response in `{"data": …}`. Default true; false puts fields at the top level. */
  wrapInData?: boolean
  /** Every refresh returns a new refresh token and invalidates the old one. Default true. */
  rotate?: boolean
  /** Default `/auth/token`. */
  loginPath?: string
  /** Default `/auth/token/refresh`. */
  refreshPath?: string
  /** Default `/auth/token/revoke`. */
  revokePath?: string
  /** Default `/api/me`: a protected GET answering `{"user": …}` for a valid access token. */
  mePath?: string
  /** Default true; false answers 404 on the revoke path. */
  revokeSupported?: boolean
  /** Where the `redirect` failure sends the client. Default: a plain-http port nothing listens on. */
  redirectTo?: string
  /**
   * The access token's `expiresIn` written as this JSON text instead of `accessTtl`: what
   * JSON.stringify cannot write, such as `1e400` (JSON.parse reads it as Infinity), or `"0"`.
   */
  expiresInText?: string
}

/** Tokens to send instead of the ones the server mints (they are still what it accepts). */
export interface TokenOverride {
  accessToken?: string
  refreshToken?: string
  /** Only answers to this path; default: login and refresh. */
  path?: string
}

export interface LoggedRequest {
  method: string
  /** Path without the query string. */
  path: string
  /** Parsed JSON when the body is JSON, else the raw string ('' when there is none). */
  body: unknown
  headers: IncomingHttpHeaders
  /** Epoch ms (real time, not the simulated server clock). */
  at: number
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  /** Every request received, in order, including ones that were then failed. */
  readonly requests: LoggedRequest[]
  /** Seconds the server clock runs ahead of real time (see `advance`). */
  readonly clock: number
  /** How many requests hit `path` (optionally only with `method`). */
  count(path: string, method?: string): number
  /** Fail the next `count` matching POSTs with `mode`. Queued failures are used in order. */
  failNext(mode: FailureMode, count?: number, options?: FailureOptions): void
  /** Fail every matching POST with `mode` until called with `undefined`. */
  setFailure(mode: FailureMode | undefined, options?: FailureOptions): void
  /**
   * Put these values in every token response (after the real tokens were minted and
   * registered) until called with `undefined`: the hostile or broken server (docs/design.md#secrets-never-leak).
   */
  overrideTokens(override: TokenOverride | undefined): void
  /**
   * Call `hook` once the answer to a request on `path` has been handed to the socket:
   * the moment between "the server has answered" and "the client has saved it".
   */
  onAnswered(path: string, hook: ((request: LoggedRequest) => void) | undefined): void
  /** Revoke every family: all tokens issued so far stop working. */
  revokeAll(): void
  /** Make every access token issued so far invalid at the protected endpoint (server-side revocation). */
  expireAccessTokens(): void
  /** Move the server clock forward, so tokens expire without waiting. */
  advance(seconds: number): void
  /** True when `token` is a refresh token the server would still accept. */
  isRefreshTokenActive(token: string): boolean
  /** True when `token` is an access token the server would still accept. */
  isAccessTokenActive(token: string): boolean
  /** Every token this server has minted so far, valid or not: what a leak check looks for. */
  issued(): { access: string[]; refresh: string[] }
  /** Stops listening and ends every open socket, hanging ones included. */
  close(): Promise<void>
}

/** Tokens from one login and all its refreshes; reuse detection revokes them together. */
interface Family {
  user: string
  revoked: boolean
}

interface IssuedToken {
  family: Family
  /** Server-clock epoch seconds. */
  exp: number
  /** Access: revoked by `expireAccessTokens`. Refresh: `rotated` once exchanged. */
  state: 'active' | 'rotated' | 'revoked'
}

interface Reply {
  status: number
  body: unknown
}

interface Failure {
  mode: FailureMode
  options: FailureOptions
}

const DEFAULT_USERS: Record<string, string> = { alice: 'wonderland' }

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const config = {
    users: options.users ?? DEFAULT_USERS,
    tokenFormat: options.tokenFormat ?? 'jwt',
    accessTtl: options.accessTtl ?? 1800,
    refreshTtl: options.refreshTtl ?? 604800,
    sendExpiresIn: options.sendExpiresIn ?? true,
    wrapInData: options.wrapInData ?? true,
    rotate: options.rotate ?? true,
    loginPath: options.loginPath ?? '/auth/token',
    refreshPath: options.refreshPath ?? '/auth/token/refresh',
    revokePath: options.revokePath ?? '/auth/token/revoke',
    mePath: options.mePath ?? '/api/me',
    revokeSupported: options.revokeSupported ?? true,
    redirectTo: options.redirectTo ?? 'http://127.0.0.1:9/elsewhere',
    expiresInText: options.expiresInText,
  }
  // A fresh key per server, so a token from one test can never validate in another.
  const jwtKey = randomBytes(32)
  const families = new Set<Family>()
  const accessTokens = new Map<string, IssuedToken>()
  const refreshTokens = new Map<string, IssuedToken>()
  const requests: LoggedRequest[] = []
  const queuedFailures: Failure[] = []
  let standingFailure: Failure | undefined
  let tokenOverride: TokenOverride | undefined
  /** Tokens sent but never valid (the noToken answer): still secrets a client must not print. */
  const strayTokens: string[] = []
  const answeredHooks = new Map<string, (request: LoggedRequest) => void>()
  let clockOffset = 0
  const sockets = new Set<Socket>()

  /** Server time in epoch seconds; `advance` moves it so expiry can be tested instantly. */
  const now = (): number => Math.floor(Date.now() / 1000) + clockOffset

  // ---- tokens -------------------------------------------------------------------------

  function mintToken(user: string, ttl: number, kind: 'access' | 'refresh'): string {
    if (config.tokenFormat === 'opaque') return randomBytes(32).toString('base64url')
    const iat = now()
    // base64url uses only characters inside RFC 6750's b64token set (docs/design.md#secrets-never-leak).
    const header = b64url({ alg: 'HS256', typ: 'JWT' })
    const payload = b64url({ sub: user, iat, exp: iat + ttl, jti: randomUUID(), typ: kind })
    const signature = createHmac('sha256', jwtKey).update(`${header}.${payload}`).digest('base64url')
    return `${header}.${payload}.${signature}`
  }

  function issueAccess(family: Family): string {
    const token = mintToken(family.user, config.accessTtl, 'access')
    accessTokens.set(token, { family, exp: now() + config.accessTtl, state: 'active' })
    return token
  }

  function issueRefresh(family: Family): string {
    const token = mintToken(family.user, config.refreshTtl, 'refresh')
    refreshTokens.set(token, { family, exp: now() + config.refreshTtl, state: 'active' })
    return token
  }

  function isActive(issued: IssuedToken | undefined): issued is IssuedToken {
    return issued !== undefined && issued.state === 'active' && !issued.family.revoked && issued.exp > now()
  }

  /** Shapes a token response as the options ask (wrapped or not, with or without lifetimes). */
  function tokenResponse(token: string | undefined, refreshToken: string | undefined): unknown {
    const fields: Record<string, unknown> = {}
    if (token !== undefined) fields.token = token
    if (refreshToken !== undefined) fields.refreshToken = refreshToken
    if (config.sendExpiresIn) {
      if (token !== undefined)
        fields.expiresIn = config.expiresInText === undefined ? config.accessTtl : EXPIRES_IN_TEXT
      if (refreshToken !== undefined) fields.refreshExpiresIn = config.refreshTtl
    }
    return config.wrapInData ? { data: fields } : fields
  }

  // ---- endpoints ----------------------------------------------------------------------

  function login(body: unknown): Reply {
    const username = field(body, 'username')
    const password = field(body, 'password')
    if (username === undefined || password === undefined)
      return error(400, 'bad_request', 'username and password are required')
    if (!Object.hasOwn(config.users, username) || config.users[username] !== password) {
      return error(401, 'invalid_credentials', 'Invalid username or password')
    }
    const family: Family = { user: username, revoked: false }
    families.add(family)
    return { status: 200, body: tokenResponse(issueAccess(family), issueRefresh(family)) }
  }

  function refresh(body: unknown): Reply {
    const presented = field(body, 'refreshToken')
    if (presented === undefined) return error(400, 'bad_request', 'refreshToken is required')
    const issued = refreshTokens.get(presented)
    if (issued?.state === 'rotated') {
      // Reuse detection: a rotated-away token coming back means it may have been stolen,
      // so every token of that login dies, the legitimate holder's newest one included.
      issued.family.revoked = true
      return error(401, 'invalid_grant', 'Refresh token reuse detected; session revoked')
    }
    if (!isActive(issued)) return error(401, 'invalid_grant', 'Refresh token is invalid or expired')
    if (!config.rotate) return { status: 200, body: tokenResponse(issueAccess(issued.family), undefined) }
    issued.state = 'rotated'
    return { status: 200, body: tokenResponse(issueAccess(issued.family), issueRefresh(issued.family)) }
  }

  function revoke(body: unknown): Reply {
    if (!config.revokeSupported) return error(404, 'not_found', 'Not found')
    const presented = field(body, 'refreshToken')
    if (presented === undefined) return error(400, 'bad_request', 'refreshToken is required')
    // Like RFC 7009, an unknown token is not an error: the client's goal is already met.
    const issued = refreshTokens.get(presented)
    if (issued) issued.family.revoked = true
    return { status: 200, body: { data: { revoked: true } } }
  }

  function me(headers: IncomingHttpHeaders): Reply {
    const match = /^Bearer (\S+)$/.exec(headers.authorization ?? '')
    const issued = match?.[1] === undefined ? undefined : accessTokens.get(match[1])
    if (!isActive(issued)) return error(401, 'invalid_token', 'Access token is invalid or expired')
    return { status: 200, body: { user: issued.family.user } }
  }

  function route(method: string, path: string, body: unknown, headers: IncomingHttpHeaders): Reply {
    if (path === config.mePath) return method === 'GET' ? me(headers) : error(405, 'method_not_allowed', 'Use GET')
    const handler = { [config.loginPath]: login, [config.refreshPath]: refresh, [config.revokePath]: revoke }[path]
    if (!handler) return error(404, 'not_found', 'Not found')
    if (method !== 'POST') return error(405, 'method_not_allowed', 'Use POST')
    // docs/design.md#the-api-protocol says every call is JSON; enforcing it catches a client that forgets the header.
    if (!(headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      return error(415, 'unsupported_media_type', 'Content-Type must be application/json')
    }
    if (typeof body !== 'object' || body === null) return error(400, 'bad_request', 'Body must be a JSON object')
    return handler(body)
  }

  // ---- failures -----------------------------------------------------------------------

  /** Takes the failure that applies to this request, if any (queued ones first). */
  function takeFailure(method: string, path: string): Failure | undefined {
    if (method !== 'POST') return undefined
    const applies = (f: Failure) => f.options.path === undefined || f.options.path === path
    const index = queuedFailures.findIndex(applies)
    if (index >= 0) return queuedFailures.splice(index, 1)[0]
    return standingFailure && applies(standingFailure) ? standingFailure : undefined
  }

  function sendFailure(
    mode: FailureMode,
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    message?: string,
  ): void {
    switch (mode) {
      case 'html500':
        return send(
          res,
          500,
          'text/html; charset=utf-8',
          '<html><body><h1>500 Internal Server Error</h1></body></html>',
        )
      case 'malformedJson':
        return send(res, 200, 'application/json', '{"data": {"tok')
      case 'wrongShape':
        return sendJson(res, { status: 200, body: { data: { foo: 1 } } })
      case 'noToken': {
        // A refresh token the server never stored: the response itself is what is under test.
        const stray = randomBytes(32).toString('base64url')
        strayTokens.push(stray)
        return sendJson(res, { status: 200, body: tokenResponse(undefined, stray) })
      }
      case 'hang':
        // Leave the response open; close() destroys the socket.
        return
      case 'drop':
        req.socket.destroy()
        return
      case 'huge':
        return send(res, 200, 'application/json', JSON.stringify({ data: { token: 'a'.repeat(2 * 1024 * 1024) } }))
      case 'redirect':
        res.writeHead(307, { location: config.redirectTo })
        res.end()
        return
      case 'echo':
        return sendJson(res, error(400, 'bad_request', `Could not process ${raw}`))
      case 'echoHtml':
        return send(
          res,
          500,
          'text/html',
          `<html><body><pre>${raw}\n${JSON.stringify(req.headers)}</pre></body></html>`,
        )
      case 'echoEncoded': {
        const secret = field(parseJson(raw), 'refreshToken') ?? field(parseJson(raw), 'password') ?? ''
        const forms = [
          Buffer.from(secret).toString('base64'),
          Buffer.from(secret).toString('base64url'),
          encodeURIComponent(secret),
          Buffer.from(raw).toString('base64'),
        ]
        return sendJson(res, error(500, 'server_error', `Could not process ${forms.join(' ')}`))
      }
      default: {
        if (mode.startsWith('html:')) {
          const status = Number(mode.slice('html:'.length))
          return send(
            res,
            status,
            'text/html; charset=utf-8',
            `<html><head><title>${status} Request blocked</title></head><body><h1>Request blocked</h1><p>The firewall refused this request.</p></body></html>`,
          )
        }
        if (mode.startsWith('gateway:')) {
          return send(
            res,
            Number(mode.slice('gateway:'.length)),
            'application/json',
            JSON.stringify({ message: 'Forbidden' }),
          )
        }
        const status = Number(mode.slice('status:'.length))
        return sendJson(res, error(status, 'injected_failure', message ?? `Injected status ${status}`))
      }
    }
  }

  // ---- HTTP plumbing ------------------------------------------------------------------

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const method = req.method ?? 'GET'
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const body = parseJson(raw)
    requests.push({ method, path, body, headers: req.headers, at: Date.now() })

    const logged = requests[requests.length - 1]!
    const hook = answeredHooks.get(path)
    if (hook) res.once('finish', () => hook(logged))

    const failure = takeFailure(method, path)
    if (failure && !failure.options.afterHandling)
      return sendFailure(failure.mode, req, res, raw, failure.options.message)
    const reply = overridden(path, route(method, path, body, req.headers))
    if (failure) return sendFailure(failure.mode, req, res, raw, failure.options.message)
    sendJson(res, reply, config.expiresInText)
  }

  /** A successful token response with the override's values put in. */
  function overridden(path: string, reply: Reply): Reply {
    const override = tokenOverride
    if (!override || reply.status !== 200 || (path !== config.loginPath && path !== config.refreshPath)) return reply
    if (override.path !== undefined && override.path !== path) return reply
    const body = structuredClone(reply.body) as Record<string, Record<string, unknown>>
    const fields = config.wrapInData ? body.data! : (body as Record<string, unknown>)
    if (override.accessToken !== undefined) fields.token = override.accessToken
    if (override.refreshToken !== undefined) fields.refreshToken = override.refreshToken
    return { status: reply.status, body }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, error(500, 'server_error', String(err)))
    })
  })
  const { port } = await listenOnLoopback(server, sockets)

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get clock() {
      return clockOffset
    },
    count: (path, method) =>
      requests.filter((r) => r.path === path && (method === undefined || r.method === method)).length,
    failNext(mode, count = 1, failureOptions = {}) {
      for (let i = 0; i < count; i++) queuedFailures.push({ mode, options: failureOptions })
    },
    setFailure(mode, failureOptions = {}) {
      standingFailure = mode === undefined ? undefined : { mode, options: failureOptions }
    },
    overrideTokens(override) {
      tokenOverride = override
    },
    onAnswered(path, hook) {
      if (hook) answeredHooks.set(path, hook)
      else answeredHooks.delete(path)
    },
    revokeAll() {
      for (const family of families) family.revoked = true
    },
    expireAccessTokens() {
      for (const issued of accessTokens.values()) issued.state = 'revoked'
    },
    advance(seconds) {
      clockOffset += seconds
    },
    isRefreshTokenActive: (token) => isActive(refreshTokens.get(token)),
    isAccessTokenActive: (token) => isActive(accessTokens.get(token)),
    issued: () => ({ access: [...accessTokens.keys()], refresh: [...refreshTokens.keys(), ...strayTokens] }),
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}

// ---- small helpers ------------------------------------------------------------------

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** A string field of a JSON object body, or undefined. */
function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const value = (body as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function error(status: number, code: string, message: string): Reply {
  return { status, body: { error: code, message } }
}

function parseJson(raw: string): unknown {
  if (raw === '') return raw
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return raw
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sendJson(res: ServerResponse, reply: Reply, expiresInText?: string): void {
  const text = JSON.stringify(reply.body)
  send(
    res,
    reply.status,
    'application/json',
    expiresInText === undefined ? text : text.replace(JSON.stringify(EXPIRES_IN_TEXT), expiresInText),
  )
}

/** Stands for `expiresInText` until the body is written out. */
const EXPIRES_IN_TEXT = '\u0000expiresIn\u0000'

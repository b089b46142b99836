/**
 * An OAuth 2.0 provider whose every answer a test writes: the discovery document, the
 * token, device and revocation endpoints, all of them free to say what no honest server
 * would (another host, Infinity, bidi characters, no token_type). Several instances are
 * several hosts (one port each). Every request is recorded, headers and body included,
 * so a test can show that a host never saw a secret.
 *
 * A plain node:http server on 127.0.0.1 (node:https with `tls`), no library: what it
 * sends is exactly what the test scripted, byte for byte when `raw` is used.
 */
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'

import { listenOnLoopback } from './listen.js'

export interface RecordedRequest {
  method: string
  /** The path with its query string. */
  path: string
  headers: http.IncomingHttpHeaders
  /** The body as sent. */
  body: string
  /** The body read as a form (every OAuth 2.0 request is one). */
  form: Record<string, string>
}

export interface Answer {
  status?: number
  /** Sent as JSON. */
  json?: unknown
  /** Sent as it is (JSON that JSON.stringify cannot write, such as 1e400; a huge body). */
  raw?: string
  contentType?: string
  headers?: Record<string, string>
}

export type Responder = (request: RecordedRequest, provider: HostileProvider) => Answer | Promise<Answer>

export interface HostileProviderOptions {
  /** Serve https with this certificate (see makeTestCertificate in tls.ts); the URLs then say https://localhost. */
  tls?: { key: Buffer; cert: Buffer }
}

/** The paths a fresh provider answers on. */
export const PATHS = {
  discovery: '/.well-known/openid-configuration',
  token: '/token',
  device: '/device',
  revoke: '/revoke',
  authorize: '/authorize',
} as const

export interface HostileProvider {
  /** `http://127.0.0.1:PORT`, or `https://localhost:PORT` with tls. */
  readonly origin: string
  /** The issuer its discovery document names by default (its origin). */
  readonly issuer: string
  /** `origin` + path. */
  url(pathname: string): string
  /** Every request so far, oldest first. */
  readonly requests: RecordedRequest[]
  /** Requests to one path (query string ignored). */
  requestsTo(pathname: string): RecordedRequest[]
  /** Whether any request (its path, any header, its body) held `secret` or its base64 or percent-encoded form. */
  saw(secret: string): boolean
  /** Answer `pathname` with this from now on (a function, or the same answer every time). */
  on(pathname: string, responder: Responder | Answer): void
  /** The discovery document, merged over the one a fresh provider serves (a field set to undefined is dropped). */
  setDocument(fields: Record<string, unknown>): void
  /** Tokens issued by the default token endpoint, in order. */
  readonly issued: Array<{ access_token: string; refresh_token: string }>
  close(): Promise<void>
}

/** The discovery document of a fresh provider: every endpoint on its own origin. */
function defaultDocument(origin: string): Record<string, unknown> {
  return {
    issuer: origin,
    token_endpoint: `${origin}${PATHS.token}`,
    device_authorization_endpoint: `${origin}${PATHS.device}`,
    authorization_endpoint: `${origin}${PATHS.authorize}`,
    revocation_endpoint: `${origin}${PATHS.revoke}`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: ['openid', 'offline_access'],
  }
}

export async function startHostileProvider(options: HostileProviderOptions = {}): Promise<HostileProvider> {
  const sockets = new Set<Socket>()
  const routes = new Map<string, Responder>()
  const requests: RecordedRequest[] = []
  const issued: Array<{ access_token: string; refresh_token: string }> = []
  let document: Record<string, unknown> = {}

  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '/',
        headers: request.headers,
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      }
      requests.push(recorded)
      const responder = routes.get(new URL(recorded.path, 'http://x').pathname)
      Promise.resolve(responder ? responder(recorded, provider) : { status: 404, json: { error: 'not_found' } })
        .then((answer) => send(response, answer))
        .catch((error: unknown) => send(response, { status: 500, raw: String(error), contentType: 'text/plain' }))
    })
  }
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : http.createServer(handler)
  const { port } = await listenOnLoopback(server, sockets)
  const origin = options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`

  const provider: HostileProvider = {
    origin,
    issuer: origin,
    url: (pathname) => `${origin}${pathname}`,
    requests,
    requestsTo: (pathname) => requests.filter((request) => new URL(request.path, 'http://x').pathname === pathname),
    saw(secret) {
      const forms = [
        secret,
        Buffer.from(secret).toString('base64'),
        Buffer.from(secret).toString('base64url'),
        encodeURIComponent(secret),
        new URLSearchParams({ v: secret }).toString().slice(2),
      ]
      return requests.some((request) => {
        const text = `${request.path}\n${JSON.stringify(request.headers)}\n${request.body}`
        const basic = /^Basic (.+)$/i.exec(String(request.headers.authorization ?? ''))?.[1]
        const decoded = basic ? Buffer.from(basic, 'base64').toString('utf8') : ''
        return forms.some((form) => text.includes(form) || decoded.includes(form))
      })
    },
    on(pathname, responder) {
      routes.set(pathname, typeof responder === 'function' ? responder : () => responder)
    },
    setDocument(fields) {
      document = { ...document, ...fields }
    },
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }

  provider.on(PATHS.discovery, () => ({
    json: Object.fromEntries(
      Object.entries({ ...defaultDocument(origin), ...document }).filter(([, value]) => value !== undefined),
    ),
  }))
  // An ordinary token endpoint until a test says otherwise: any grant gets a fresh pair.
  provider.on(PATHS.token, () => {
    const n = issued.length + 1
    const pair = {
      access_token: `hostile-access-${n}-${Math.random().toString(36).slice(2, 12)}`,
      refresh_token: `hostile-refresh-${n}-${Math.random().toString(36).slice(2, 12)}`,
    }
    issued.push(pair)
    return { json: { ...pair, token_type: 'Bearer', expires_in: 3600 } }
  })
  provider.on(PATHS.revoke, { status: 200, raw: '' })
  return provider
}

function send(response: http.ServerResponse, answer: Answer): void {
  const body = answer.raw ?? (answer.json === undefined ? '' : JSON.stringify(answer.json))
  response.writeHead(answer.status ?? 200, {
    'content-type': answer.contentType ?? 'application/json',
    'cache-control': 'no-store',
    ...answer.headers,
  })
  response.end(body)
}

/** A JWT with these claims and no real signature: tokenctl reads an ID token's claims without checking it. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('not-a-signature').toString('base64url')}`
}

import http from 'node:http'
import net from 'node:net'

import { type Agents, CancelError, got, RequestError } from 'got'
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent'

import { debug, safeUrl } from '../base/debug.js'
import { printable } from '../base/env-name.js'
import { ServerError, UsageError } from '../base/errors.js'
import type { Environ } from '../base/paths.js'
import {
  isLoopbackAddress,
  type LookupFunction,
  loopbackOnlyLookup,
  type Refusal,
  systemLookup,
} from '../util/loopback-lookup.js'
import { proxyFor } from './proxy.js'

/** The request never reached the server (refused, DNS, no route): nothing was sent, so nothing can have changed there. */
export class UnreachableError extends ServerError {}

export interface HttpResponse {
  status: number
  /** Parsed JSON, or undefined when the body was not JSON. */
  json: unknown
  text: string
  contentType: string
}

export interface HttpOptions {
  environ: Environ
  userAgent: string
  /**
   * The env was added with --allow-http: plain http may go to any host, proxies included.
   * Without it (the default) an http: URL is only ever connected to a loopback address.
   */
  allowHttp?: boolean
  /** For tests only: the resolver under the loopback check, in place of the system's. */
  lookup?: LookupFunction
}

/** docs/design.md#transport: every request has a timeout, 15 s unless TOKENCTL_TIMEOUT says otherwise. */
function requestTimeoutMs(environ: Environ): number {
  const raw = environ.TOKENCTL_TIMEOUT
  if (raw === undefined || raw === '') return 15_000
  const seconds = Number(raw)
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `TOKENCTL_TIMEOUT must be a number of seconds, not "${raw.slice(0, 20)}".`,
      'Set it to, say, TOKENCTL_TIMEOUT=30, or unset it for the default 15 s.',
    )
  }
  return Math.round(seconds * 1000)
}

/** A bigger answer from a token endpoint is not a token response; refuse to buffer it. */
const MAX_BODY = 1024 * 1024

/**
 * Only failures that happened before the request reached the server are retried: a
 * request that was sent may have rotated the refresh token already (docs/design.md#transport).
 */
const NOT_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']
/** Such a failure is tried again twice, a second apart, then reported. */
const RETRIES = 2
const RETRY_DELAY_MS = 1000

const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/

export interface SendOptions {
  method: 'GET' | 'POST'
  /** A JSON body (the api protocol). */
  json?: unknown
  /** An application/x-www-form-urlencoded body (OAuth 2.0). */
  form?: Record<string, string>
  headers?: Record<string, string>
}

export async function postJson(url: string, body: unknown, options: HttpOptions): Promise<HttpResponse> {
  return send(url, { method: 'POST', json: body }, options)
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  options: HttpOptions,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return send(url, { method: 'POST', form, headers }, options)
}

export async function getJson(url: string, options: HttpOptions): Promise<HttpResponse> {
  return send(url, { method: 'GET' }, options)
}

export async function send(url: string, what: SendOptions, options: HttpOptions): Promise<HttpResponse> {
  const target = new URL(url)
  const timeout = requestTimeoutMs(options.environ)
  // Plain http without --allow-http is allowed for loopback only, and a name is no proof:
  // `*.localhost`, or `localhost` itself, may be sent to DNS and answered with any address.
  // So the address is checked where the connection is made: an IP literal as it is, a name
  // through a lookup that refuses any address off this machine, before a byte is sent.
  const loopbackOnly = target.protocol === 'http:' && !options.allowHttp
  if (loopbackOnly) {
    const literal = target.hostname.replace(/^\[|\]$/g, '')
    if (net.isIP(literal) && !isLoopbackAddress(literal)) throw notLoopback({ host: literal, address: literal })
  }
  const line = () => `${what.method} ${safeUrl(target)}`
  const started = Date.now()
  // Retried here, not by got: on Node 24.20+ and 26.7+ a refused connection that got retries
  // itself ends after one attempt with a bare "socket closed before the connection was
  // established", its code lost, while got's retries go on in the background.
  for (let attempt = 0; ; attempt++) {
    let refusal: Refusal | undefined
    const request = got(target, {
      method: what.method,
      json: what.json,
      form: what.form,
      headers: { accept: 'application/json', 'user-agent': options.userAgent, ...what.headers },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      timeout: { request: timeout },
      retry: { limit: 0 },
      // Never a proxy for these: "127.0.0.1" or "localhost" at a proxy is the proxy's own
      // machine, and the request would cross the network to it in clear first.
      agent: loopbackOnly ? { http: directAgent() } : agentsFor(target, options.environ),
      dnsLookup: loopbackOnly
        ? loopbackOnlyLookup(options.lookup ?? systemLookup, (refused) => (refusal = refused))
        : options.lookup,
    })
    request.on('downloadProgress', (progress: { transferred: number }) => {
      if (progress.transferred > MAX_BODY) request.cancel('too large')
    })
    try {
      const response = await request
      const contentType = String(response.headers['content-type'] ?? '')
      debug(
        'http',
        () => `${line()} → ${response.statusCode} (${Date.now() - started} ms, ${response.body.length} bytes)`,
      )
      return { status: response.statusCode, json: parseJson(response.body), text: response.body, contentType }
    } catch (error) {
      const code = notSentCode(error)
      if (!refusal && code && attempt < RETRIES) {
        debug('http', () => `${code}: nothing was sent; retry ${attempt + 1}`)
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS))
        continue
      }
      const failure = refusal ? notLoopback(refusal) : describe(error, target, timeout)
      debug('http', () => `${line()} → failed after ${Date.now() - started} ms: ${failure.message}`)
      throw failure
    }
  }
}

/** The code of a failure that happened before the request reached the server, else undefined. */
function notSentCode(error: unknown): string | undefined {
  const code = error instanceof RequestError ? error.code : undefined
  return code && NOT_SENT.includes(code) ? code : undefined
}

let direct: http.Agent | undefined

/**
 * Loopback-only requests get an agent of their own that keeps no connection: a socket kept
 * alive for an --allow-http request to the same host and port was never checked.
 */
function directAgent(): http.Agent {
  return (direct ??= new http.Agent({ keepAlive: false }))
}

/** The same rule and fix as a plain-http URL to another host at `env add` (exit 2). */
function notLoopback({ host, address }: Refusal): UsageError {
  const where =
    address === host
      ? `${printable(host)} is not a loopback address`
      : `${printable(host)} resolves to ${printable(address)}, which is not a loopback address`
  return new UsageError(
    `Plain http:// goes only to this machine's loopback, and ${where}; nothing was sent.`,
    'Use https://, or add the env with --allow-http if this server really has no TLS.',
  )
}

function agentsFor(target: URL, environ: Environ): Agents | undefined {
  const proxy = proxyFor(target, environ)
  if (!proxy) return undefined
  const options = { proxy, keepAlive: false }
  return target.protocol === 'https:' ? { https: new HttpsProxyAgent(options) } : { http: new HttpProxyAgent(options) }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function describe(error: unknown, target: URL, timeout: number): ServerError {
  const host = target.host
  if (error instanceof CancelError)
    return new ServerError(
      `${host} sent an answer larger than 1 MiB; it was cut off.`,
      'Check that the env points at the right server.',
    )
  const code = error instanceof RequestError ? (error.code ?? '') : ''
  if (code === 'ETIMEDOUT') {
    return new ServerError(
      `${host} did not answer within ${timeout / 1000} s.`,
      'Try again later, or raise TOKENCTL_TIMEOUT (seconds).',
    )
  }
  if (CERTIFICATE.test(code)) {
    return new ServerError(
      `The TLS certificate of ${host} is not trusted (${code}).`,
      'If the server uses a private CA, point NODE_EXTRA_CA_CERTS at its certificate.',
    )
  }
  if (NOT_SENT.includes(code)) {
    return new UnreachableError(
      `Could not reach ${host} (${code}).`,
      'Check the URL, your network and any proxy settings, then try again.',
    )
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new ServerError(
      `${host} closed the connection before answering.`,
      'Try again; if it persists, the server is in trouble.',
    )
  }
  return new ServerError(
    `The request to ${host} failed${code ? ` (${code})` : ''}.`,
    'Try again; run with TOKENCTL_DEBUG=1 for details.',
    { cause: error },
  )
}

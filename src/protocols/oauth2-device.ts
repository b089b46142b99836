import { printable } from '../base/env-name.js'
import { InterruptedError, ServerError, type TokenctlError } from '../base/errors.js'
import { rememberSecret } from '../base/secrets.js'
import type { HttpResponse } from './http.js'
import { CHECK_ENDPOINTS, type OAuthError } from './oauth2-errors.js'
import { isObject } from '../util/is-object.js'
import { failure } from './responses.js'
import type { DevicePrompt, TokenSet } from './types.js'

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8628 §3.2's defaults, and the bounds a provider's numbers are held to. */
const DEFAULT_INTERVAL_S = 5
const DEFAULT_DEVICE_EXPIRY_S = 600
const MIN_INTERVAL_MS = 1000
const MAX_INTERVAL_MS = 60_000
/** RFC 8628 §3.5: a `slow_down` answer adds this to the interval for this and every later poll. */
const SLOW_DOWN_MS = 5000
const MAX_DEVICE_EXPIRY_MS = 30 * 60_000

/**
 * How long the device flow waits between polls, whatever the provider asked for (its
 * `interval`, and every `slow_down` after it): at least a second and at most a minute. A
 * huge interval would overflow the timer, which then fires at once and hammers the
 * provider; a tiny one hammers it anyway.
 */
export function pollInterval(ms: number): number {
  return Math.min(Math.max(ms, MIN_INTERVAL_MS), MAX_INTERVAL_MS)
}

/** A device authorization the provider granted: what the person is shown, and what the polls send. */
export interface DeviceGrant {
  shown: DevicePrompt
  deviceCode: string
  intervalMs: number
}

/** Who answered the device authorization request, and what it carried. */
export interface DeviceAnswer {
  /** The device endpoint's host, as messages name it. */
  host: string
  /** The secrets the request carried, masked in whatever the server says. */
  sent: readonly (string | undefined)[]
}

/** The device authorization endpoint's answer (RFC 8628 §3.2), held to what can be shown and polled for; `now` starts the code's life. */
export function deviceGrantOf(response: HttpResponse, now: number, answer: DeviceAnswer): DeviceGrant {
  const { host } = answer
  const body = response.json
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined)
  if (response.status !== 200 || !isObject(body)) throw failure(response, host, answer.sent, CHECK_ENDPOINTS)
  const deviceCode = text(body.device_code)
  // It buys tokens until it expires: a secret like them (docs/design.md#secrets-never-leak); the user code is shown on purpose.
  rememberSecret(deviceCode)
  const userCode = text(body.user_code)
  // Google says verification_url, as drafts of RFC 8628 did.
  const verificationUri = text(body.verification_uri) ?? text(body.verification_url)
  if (!deviceCode || !userCode || !verificationUri || !isWebUrl(verificationUri)) {
    throw new ServerError(
      `${host} sent a device authorization answer tokenctl cannot use.`,
      'Use --flow browser or --flow password instead.',
    )
  }
  const complete = text(body.verification_uri_complete)
  const expiresIn = seconds(body.expires_in, 'expires_in', DEFAULT_DEVICE_EXPIRY_S, host)
  const interval = seconds(body.interval, 'interval', DEFAULT_INTERVAL_S, host)
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
function seconds(value: unknown, field: string, fallback: number, host: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof number !== 'number' || Number.isNaN(number) || number <= 0) return fallback
  if (!Number.isFinite(number)) {
    throw new ServerError(
      `${host} sent a device authorization answer whose ${field} is not a finite number; nothing was stored.`,
      'Report this to whoever runs the server, or use --flow browser or --flow password instead.',
    )
  }
  return number
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

/** What the polling needs from outside: the token endpoint, the clock, and how a refusal is told. */
export interface DevicePolling {
  /** One poll of the token endpoint with the device code: the tokens, or the provider's error answer. */
  poll(): Promise<{ tokens: TokenSet } | { error: OAuthError }>
  /** The provider's last word (or the code running out, as `expired_token`) as the error to stop with. */
  refused(error: OAuthError): TokenctlError
  sleep(ms: number): Promise<void>
  now(): number
}

/**
 * Poll until the person approves (RFC 8628 §3.4, §3.5): wait first, then ask. Pending
 * means ask again; `slow_down` adds 5 s to the interval for this and every later poll,
 * within the bounds; any other error ends it, as does the code running out.
 */
export async function pollForTokens(grant: DeviceGrant, polling: DevicePolling): Promise<TokenSet> {
  let interval = grant.intervalMs
  while (polling.now() < grant.shown.expiresAt) {
    await polling.sleep(interval)
    const answer = await polling.poll()
    if ('tokens' in answer) return answer.tokens
    const { error } = answer
    if (error.code === 'authorization_pending') continue
    if (error.code === 'slow_down') {
      interval = pollInterval(interval + SLOW_DOWN_MS)
      continue
    }
    throw polling.refused(error)
  }
  throw polling.refused({ code: 'expired_token' })
}

/** The wait between polls; Ctrl-C ends it at once, with nothing stored. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

import { printable } from './env-name.js'
import type { Env } from './env-settings.js'
import { UsageError } from './errors.js'

/**
 * Loopback by name: `localhost`, `*.localhost`, 127.0.0.0/8 and ::1. This is the check made
 * when a URL is given (`env add`, the variables); it cannot be the last word, because a
 * resolver may send `*.localhost` anywhere. Every plain-http request without --allow-http is
 * held to a loopback address again where the connection is made (protocols/http.ts).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  // Plain patterns rather than node:net, whose loading the token fast path would pay for.
  if (/^127(\.\d{1,3}){3}$/.test(host)) return host.split('.').every((part) => Number(part) <= 255)
  return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host) || host === '::ffff:127.0.0.1'
}

/**
 * Parse a server URL given by a person or a variable, and hold it to the HTTPS rule:
 * `http://` only to loopback, or when the env says `--allow-http`.
 */
export function checkServerUrl(value: string, flag: string, allowHttp = false): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(
      `${flag} "${printable(value)}" is not a URL.`,
      `Give a full URL such as https://auth.example.com.`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(
      `${flag} must be an https:// URL, not ${printable(url.protocol)}//.`,
      'Give a full URL such as https://auth.example.com.',
    )
  }
  if (url.username || url.password) {
    throw new UsageError(
      `${flag} must not hold a user name or password.`,
      'Remove the "user:password@" part; tokenctl asks for credentials at login.',
    )
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `${flag} uses plain http:// to ${printable(url.host)}, which would send tokens unencrypted.`,
      'Use https://, or pass --allow-http if this server really has no TLS.',
    )
  }
  // Keep what the person typed, minus a trailing slash on a bare origin.
  return url.pathname === '/' && !value.endsWith('/?') && !url.search ? url.origin : url.toString()
}

/**
 * An env made from variables never went through `env add`: its URL (api) or issuer (oauth2)
 * is held to the HTTPS rule on every use, before anything else: a store call, or a cached
 * token served. One function for the full path (context.ts) and the fast path, so that
 * neither serves what the other refuses.
 */
export function checkVariableServer(env: Env): void {
  if (!env.fromVariables) return
  if (env.protocol === 'api') checkServerUrl(env.url ?? '', 'TOKENCTL_URL', env.allowHttp)
  else checkServerUrl(env.issuer ?? '', 'TOKENCTL_ISSUER', env.allowHttp)
}

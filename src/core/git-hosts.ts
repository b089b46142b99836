import type { CredentialRequest } from '../integrations/git-credential.js'
import type { Env } from '../base/env-settings.js'
import { isLoopbackHost } from '../base/url-policy.js'

/** The user name git gets when the env names none (GitHub's convention, understood widely). */
export const DEFAULT_GIT_USER = 'x-access-token'

/** docs/design.md#git-and-curl: the host (with port) of the env's URL, and every --host (--git-host). */
export function gitHostsOf(env: Env): string[] {
  const hosts = new Set<string>()
  const base = env.url ?? env.issuer
  if (base) {
    try {
      hosts.add(new URL(base).host.toLowerCase())
    } catch {
      // an unusable URL adds no host
    }
  }
  for (const host of env.gitHosts ?? []) hosts.add(host.toLowerCase())
  return [...hosts]
}

/** Longer than any host name (253) with a port: anything past this is not a host. */
const MAX_HOST = 512

/**
 * A host as a client wrote it (`host`, `host:port`, `[v6]:port`), for comparing with an
 * env's hosts (docs/design.md#which-env-answers-for-a-host): lower-cased (ASCII only), a
 * default `:443` left out, and nothing else rewritten. Undefined for anything URL parsing
 * would change (`2130706433`, `0x7f.1`, `%2e`, fullwidth or other non-ASCII letters, a
 * control character, user info, a path): such a host is nobody's, never guessed at.
 */
export function hostKey(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > MAX_HOST) return undefined
  const host = raw.replace(/[A-Z]+/g, (letters) => letters.toLowerCase())
  let parsed: URL
  try {
    parsed = new URL(`https://${host}/`)
  } catch {
    return undefined
  }
  if (parsed.host === host || (parsed.port === '' && `${parsed.host}:443` === host)) return parsed.host
  return undefined
}

/** Is `host` (host[:port], through hostKey) loopback, so that plain http to it stays on the machine? */
export function isLoopbackHostPort(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
  return isLoopbackHost(name)
}

/** Is this request for us: one of our hosts, over https (or http to loopback)? */
export function isOurHost(env: Env, request: CredentialRequest): boolean {
  const host = request.host === undefined ? undefined : hostKey(request.host)
  if (!host || !gitHostsOf(env).includes(host)) return false
  if (request.protocol === 'https') return true
  return request.protocol === 'http' && isLoopbackHostPort(host)
}

/** A request's user name, when it sends one, must be the env's. */
export function isOurUser(request: CredentialRequest, users: Array<string | undefined>): boolean {
  return request.username === undefined || request.username === '' || users.includes(request.username)
}

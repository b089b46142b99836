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

/** Is this request for us: one of our hosts, over https (or http to loopback)? */
export function isOurHost(env: Env, request: CredentialRequest): boolean {
  const host = request.host?.toLowerCase()
  if (!host || !gitHostsOf(env).includes(host)) return false
  if (request.protocol === 'https') return true
  return request.protocol === 'http' && isLoopbackHost(hostname(host))
}

/** A request's user name, when it sends one, must be the env's. */
export function isOurUser(request: CredentialRequest, users: Array<string | undefined>): boolean {
  return request.username === undefined || request.username === '' || users.includes(request.username)
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  return host.replace(/:\d+$/, '')
}

import type { ConfigData } from './config-file.js'
import { envSettingsOf } from './config-file.js'
import { envFromVariables, selectEnv } from './env-select.js'
import { gitHostsOf, hostKey, isLoopbackHostPort } from './git-hosts.js'
import type { Env } from '../base/env-settings.js'
import type { Environ } from '../base/paths.js'

/**
 * Which env answers for a host (docs/design.md#which-env-answers-for-a-host). docker and
 * terraform run their helpers with a host and nothing else, so the env is found from the
 * host: the one whose hosts (its URL's or issuer's host with port, and its --host
 * entries) include it.
 */

/** Longer than any address docker or terraform sends: anything past this is not one. */
const MAX_ADDRESS = 2048

/**
 * A server address as docker gives it (`https://host`, `host`, `host:port/path`) or a
 * host as terraform gives it, down to `host[:port]` by hostKey's rule, git's too. docker's
 * rule: strip the scheme, then everything from the first `/`. Undefined when what is left
 * is not a host exactly as written: refused, not guessed at.
 */
export function hostOf(address: string): string | undefined {
  if (address.length > MAX_ADDRESS) return undefined
  const withoutScheme = address.replace(/^https?:\/\//i, '')
  const slash = withoutScheme.indexOf('/')
  return hostKey(slash === -1 ? withoutScheme : withoutScheme.slice(0, slash))
}

/**
 * An address that says plain `http://` to a host that is not loopback: the token would
 * cross the network in clear, so it is not handed out unless the env allows http (as git's
 * helper does). docker sends no scheme for most registries; this holds when it does.
 */
export function isPlainHttpElsewhere(address: string, host: string, env: Pick<Env, 'allowHttp'>): boolean {
  return /^http:\/\//i.test(address) && !env.allowHttp && !isLoopbackHostPort(host)
}

/** Every env of the config, the current one first, then by name; the env made from variables last. */
export function envsInOrder(config: ConfigData, environ: Environ): Env[] {
  const names = Object.keys(config.envs).sort()
  const current = config.current && names.includes(config.current) ? config.current : undefined
  const ordered = current ? [current, ...names.filter((name) => name !== current)] : names
  const envs: Env[] = []
  for (const name of ordered) {
    const settings = envSettingsOf(config, name)
    if (settings) envs.push({ name, ...settings })
  }
  const fromVariables = envFromVariables(environ)
  if (fromVariables && !envs.some((env) => env.name === fromVariables.name)) envs.push(fromVariables)
  return envs
}

/**
 * The env that answers for `host` (already through hostOf), or undefined when none does.
 * `--env` or TOKENCTL_ENV names one: then only that env is asked, and a host not of it
 * is nobody's (an unknown name is the usage error selectEnv throws). Otherwise the
 * current env first, then the others by name.
 */
export function envForHost(host: string, config: ConfigData, environ: Environ, envFlag?: string): Env | undefined {
  return hostsOfEnvs(config, environ, envFlag).get(host)
}

/** Each host of every env, with the env that answers for it (the first in envsInOrder's order). */
export function hostsOfEnvs(config: ConfigData, environ: Environ, envFlag?: string): Map<string, Env> {
  const envs = envFlag || environ.TOKENCTL_ENV ? [selectEnv(envFlag, config, environ)] : envsInOrder(config, environ)
  const hosts = new Map<string, Env>()
  for (const env of envs) {
    for (const host of gitHostsOf(env)) if (!hosts.has(host)) hosts.set(host, env)
  }
  return hosts
}

import type { SecretRecord, SecretStore } from '../stores/types.js'
import { bindingMismatch, envBinding, serverOrClientChanged } from '../base/binding.js'
import type { Config, ConfigData } from './config.js'
import { envSettingsOf, hasEnv } from './config-file.js'
import { assertEnvName } from '../base/env-name.js'
import { unknownEnv } from './env-select.js'
import { displayUrl, type EnvSettings } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import { isLoggedIn } from './login-state.js'
import type { Environ } from '../base/paths.js'

/** One line of `env list` (docs/design.md#commands `env list --json`). */
export interface EnvSummary {
  name: string
  current: boolean
  protocol: EnvSettings['protocol']
  url: string | null
  user: string | null
  /** null when the store could not be asked. */
  loggedIn: boolean | null
}

export interface AddEnvOptions {
  force?: boolean
  use?: boolean
}

export async function addEnv(
  config: Config,
  name: string,
  settings: EnvSettings,
  options: AddEnvOptions = {},
): Promise<{ replaced: boolean; current: boolean; previous?: EnvSettings }> {
  assertEnvName(name)
  let replaced = false
  let previous: EnvSettings | undefined
  const data = await config.update((data) => {
    replaced = hasEnv(data, name)
    if (replaced && !options.force) throw duplicateEnv(name)
    previous = replaced ? envSettingsOf(data, name) : undefined
    data.envs[name] = settings
    if (options.use || !data.current || !hasEnv(data, data.current)) data.current = name
  })
  return { replaced, current: data.current === name, ...(previous ? { previous } : {}) }
}

/**
 * Whether replacing an env's settings points it at another server or client, or sends its
 * secrets to an endpoint on another origin, so that the login kept for it belongs to
 * someone else now: `env add --force` then revokes it at the old endpoints and deletes it.
 * Anything else (a scope, a path, a default user) keeps it.
 */
export function changesLogin(name: string, before: EnvSettings, after: EnvSettings, environ: Environ): boolean {
  return serverOrClientChanged(envBinding({ name, ...before }, environ), envBinding({ name, ...after }, environ))
}

export function duplicateEnv(name: string): UsageError {
  return new UsageError(`An env named "${name}" already exists.`, `Pass --force to replace it, or pick another name.`)
}

export async function useEnv(config: Config, name: string): Promise<void> {
  assertEnvName(name)
  await config.update((data) => {
    if (!hasEnv(data, name)) throw unknownEnv(name, data)
    data.current = name
  })
}

export function summarize(
  data: ConfigData,
  name: string,
  record: SecretRecord | undefined,
  storeReachable: boolean,
  environ: Environ,
  now = Date.now(),
): EnvSummary {
  const settings = envSettingsOf(data, name)
  if (!settings) throw unknownEnv(name, data)
  // A login made for another server or client is none for this env: the session would not use it.
  if (record && bindingMismatch(record.binding, envBinding({ name, ...settings }, environ))) record = undefined
  return {
    name,
    current: data.current === name,
    protocol: settings.protocol,
    url: displayUrl(settings),
    user: record?.user ?? settings.username ?? null,
    loggedIn: storeReachable ? isLoggedIn(record, now) : null,
  }
}

/**
 * Every env with its login state. A store that cannot be reached does not hide the
 * envs: their state reads `null` and `storeError` says why.
 */
export async function listEnvs(
  data: ConfigData,
  store: SecretStore,
  environ: Environ,
): Promise<{ envs: EnvSummary[]; storeError?: Error }> {
  const names = Object.keys(data.envs).sort()
  let records = new Map<string, SecretRecord>()
  let storeError: Error | undefined
  if (names.length > 0) {
    try {
      records = new Map(await store.list())
    } catch (error) {
      storeError = error as Error
    }
  }
  return { envs: names.map((name) => summarize(data, name, records.get(name), !storeError, environ)), storeError }
}

/**
 * docs/design.md#commands `env remove`: `dropSecrets` revokes (unless told not to) and deletes the env's
 * secrets first; the env leaves the config only when that worked.
 */
export async function removeEnv(
  config: Config,
  name: string,
  dropSecrets: (settings: EnvSettings) => Promise<boolean>,
): Promise<{ secretsDeleted: boolean }> {
  assertEnvName(name)
  const data = config.read()
  const settings = envSettingsOf(data, name)
  if (!settings) throw unknownEnv(name, data)
  const secretsDeleted = await dropSecrets(settings)
  await config.update((data) => {
    delete data.envs[name]
    if (data.current === name) delete data.current
  })
  return { secretsDeleted }
}

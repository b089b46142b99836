import { readPrivateFile } from '../base/private-file.js'
import { ENV_NAME_RULE, isValidEnvName, printable } from '../base/env-name.js'
import type { EnvSettings } from '../base/env-settings.js'
import { ConfigError, StoreUnavailableError } from '../base/errors.js'
import { isObject } from '../util/is-object.js'

/**
 * What config.json holds, and how it is judged. Free of `conf` so that the fast path of
 * bin/run.js can read the same file the same way without loading it.
 */
export interface ConfigData {
  current?: string
  envs: Record<string, EnvSettings>
}

/**
 * Read and check config.json; a missing file is an empty config.
 *
 * It holds no secret, but it says which server gets the user's secrets, so it must be the
 * user's own and nobody else's to change: a regular file, owned by the user (or root: a
 * dotfile manager such as home-manager links it into a root-owned store, and root can
 * change any of the user's files anyway), not writable by group or other. It is opened
 * without blocking, so a FIFO there is refused at once instead of hanging every command.
 * A symlink is followed: dotfile managers (stow, chezmoi, home-manager) link config files
 * from elsewhere, and the checks apply to the file the link leads to, on the descriptor
 * that is read. Anything else is exit 2 naming the file, like a corrupt config: it is a
 * configuration problem, and it is reported before any store is touched.
 */
export function readConfigFile(file: string): ConfigData {
  let text: string | undefined
  try {
    text = readPrivateFile(file, {
      label: 'The config file',
      followSymlink: true,
      forbiddenBits: 0o022,
      alsoOwnedBy: [0],
      chmod: 'chmod go-w',
    })
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new ConfigError(error.message, error.fix, { cause: error })
    throw corrupt(file, error)
  }
  if (text === undefined) return { envs: {} }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, error)
  }
  return validateConfig(raw, file)
}

export function corrupt(file: string, cause: unknown): ConfigError {
  const reason = cause instanceof SyntaxError ? 'it is not valid JSON' : 'it cannot be read'
  return new ConfigError(
    `The config file ${file} is corrupt: ${reason}. It was left untouched.`,
    `Fix or move it away, then add your envs again with "tokenctl env add".`,
    { cause },
  )
}

export function validateConfig(raw: unknown, file: string): ConfigData {
  const fail = (why: string) => corrupt(file, new Error(why))
  if (!isObject(raw)) throw fail('not an object')
  const envs = raw.envs ?? {}
  if (!isObject(envs)) throw fail('"envs" is not an object')
  // No prototype: a name such as "constructor" or "toString" finds only what the file holds.
  const checked = Object.create(null) as Record<string, EnvSettings>
  for (const [name, settings] of Object.entries(envs)) {
    // A name from the file reaches git's helper line, shell completion and key lookups,
    // exactly as one typed at `env add`: a hand-edited or planted file gets the same rule.
    if (!isValidEnvName(name)) throw badName(file, `an env named "${printable(name)}"`)
    if (!isObject(settings) || (settings.protocol !== 'api' && settings.protocol !== 'oauth2')) {
      throw new ConfigError(
        `The config file ${file} has an unreadable entry for env "${name}". It was left untouched.`,
        `Fix the entry by hand, or remove it with "tokenctl env remove ${name}".`,
      )
    }
    checked[name] = settings as unknown as EnvSettings
  }
  if (typeof raw.current === 'string' && !isValidEnvName(raw.current))
    throw badName(file, `"current" set to "${printable(raw.current)}"`)
  const current = typeof raw.current === 'string' ? raw.current : undefined
  return { current, envs: checked }
}

/** Own envs only: `in` and `[]` would also find "constructor", "toString" and the like. */
export function envSettingsOf(data: ConfigData, name: string): EnvSettings | undefined {
  return Object.hasOwn(data.envs, name) ? data.envs[name] : undefined
}

export function hasEnv(data: ConfigData, name: string): boolean {
  return Object.hasOwn(data.envs, name)
}

function badName(file: string, what: string): ConfigError {
  return new ConfigError(
    `The config file ${file} has ${what}, which is not a valid env name. It was left untouched.`,
    `Rename or remove it by hand: ${ENV_NAME_RULE}.`,
  )
}

import Conf from 'conf'
import fs from 'node:fs'

import { ConfigError } from './errors.js'
import type { EnvSettings } from './env-settings.js'
import { configDir, type Environ } from './paths.js'

export interface ConfigData {
  current?: string
  envs: Record<string, EnvSettings>
}

/**
 * The config file (SPEC §5): envs and the current env, nothing secret.
 * Reads never write; a file we cannot understand is reported and left as it is.
 */
export class Config {
  private readonly conf: Conf<Record<string, unknown>>
  readonly path: string
  private readonly dir: string

  constructor(environ: Environ = process.env) {
    const dir = configDir(environ)
    this.dir = dir
    try {
      this.conf = new Conf({
        cwd: dir,
        configName: 'config',
        projectName: 'tokenctl',
        clearInvalidConfig: false,
        accessPropertiesByDotNotation: false,
        configFileMode: 0o600,
      })
    } catch (error) {
      throw corrupt(`${dir}/config.json`, error)
    }
    this.path = this.conf.path
  }

  read(): ConfigData {
    let raw: unknown
    try {
      raw = this.conf.store
    } catch (error) {
      throw corrupt(this.path, error)
    }
    return validate(raw, this.path)
  }

  write(data: ConfigData): void {
    const clean: Record<string, unknown> = { envs: data.envs }
    if (data.current) clean.current = data.current
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    this.conf.store = clean
  }

  /** Read, change and write back in one step. */
  update(change: (data: ConfigData) => void): ConfigData {
    const data = this.read()
    change(data)
    this.write(data)
    return data
  }
}

function corrupt(file: string, cause: unknown): ConfigError {
  const reason = cause instanceof SyntaxError ? 'it is not valid JSON' : 'it cannot be read'
  return new ConfigError(
    `The config file ${file} is corrupt: ${reason}. It was left untouched.`,
    `Fix or move it away, then add your envs again with "tokenctl env add".`,
    { cause },
  )
}

function validate(raw: unknown, file: string): ConfigData {
  const fail = (why: string) => corrupt(file, new Error(why))
  if (!isObject(raw)) throw fail('not an object')
  const envs = raw.envs ?? {}
  if (!isObject(envs)) throw fail('"envs" is not an object')
  for (const [name, settings] of Object.entries(envs)) {
    if (!isObject(settings) || (settings.protocol !== 'api' && settings.protocol !== 'oauth2')) {
      throw new ConfigError(
        `The config file ${file} has an unreadable entry for env "${name}". It was left untouched.`,
        `Fix the entry by hand, or remove it with "tokenctl env remove ${name}".`,
      )
    }
  }
  const current = typeof raw.current === 'string' ? raw.current : undefined
  return { current, envs: envs as Record<string, EnvSettings> }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

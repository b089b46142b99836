import Conf from 'conf'
import fs from 'node:fs'

import { type ConfigData, corrupt, validateConfig } from './config-file.js'
import { configDir, type Environ } from './paths.js'

export type { ConfigData } from './config-file.js'

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
    return validateConfig(raw, this.path)
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


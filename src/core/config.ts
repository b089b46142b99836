import fs from 'node:fs'
import path from 'node:path'

import { type ConfigData, corrupt, readConfigFile } from './config-file.js'
import { ConfigError } from '../base/errors.js'
import { acquireLock } from '../base/lock.js'
import { configDir, type Environ } from '../base/paths.js'

export type { ConfigData } from './config-file.js'

/**
 * The config file (docs/design.md#where-things-are-kept): envs and the current env, nothing secret. Reads never write;
 * a file we cannot understand is reported and left as it is. `conf` does the atomic writes
 * (temp file, fsync, rename) and is loaded only for them: most commands only read.
 */
export class Config {
  readonly path: string
  private readonly dir: string

  constructor(environ: Environ = process.env) {
    this.dir = configDir(environ)
    this.path = path.join(this.dir, 'config.json')
  }

  read(): ConfigData {
    return readConfigFile(this.path)
  }

  async write(data: ConfigData): Promise<void> {
    const clean: Record<string, unknown> = { envs: data.envs }
    if (data.current) clean.current = data.current
    const { default: Conf } = await import('conf')
    let conf
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      conf = new Conf<Record<string, unknown>>({
        cwd: this.dir,
        configName: 'config',
        projectName: 'tokenctl',
        clearInvalidConfig: false,
        accessPropertiesByDotNotation: false,
        configFileMode: 0o600,
      })
    } catch (error) {
      if (error instanceof SyntaxError) throw corrupt(this.path, error)
      throw this.unwritable(error)
    }
    try {
      conf.store = clean
    } catch (error) {
      throw this.unwritable(error)
    }
  }

  /**
   * Read, change and write back in one step, under a lock: two `env add` at once must not
   * each write back a config without the other's env.
   */
  async update(change: (data: ConfigData) => void): Promise<ConfigData> {
    let release: () => void
    try {
      // The config dir may be readable by others (it holds no secret unless the file store is there, which checks for itself).
      release = await acquireLock(this.dir, 'config', { dirHoldsNoSecret: true })
    } catch (error) {
      throw this.unwritable(error)
    }
    try {
      const data = this.read()
      change(data)
      await this.write(data)
      return data
    } finally {
      release()
    }
  }

  private unwritable(cause: unknown): ConfigError {
    // The errno, also when it comes wrapped (a lock that could not be created).
    const code = [cause, (cause as Error).cause]
      .map((error) => (error as NodeJS.ErrnoException | undefined)?.code)
      .find((value) => typeof value === 'string')
    return new ConfigError(
      `The config file ${this.path} cannot be written${code ? ` (${code})` : ''}; it was left as it was.`,
      `Check the permissions of ${this.dir} and the free space on its disk.`,
      { cause },
    )
  }
}

import fs from 'node:fs'
import path from 'node:path'

import { type ConfigData, corrupt, readConfigFile } from './config-file.js'
import { configDir, type Environ } from './paths.js'

export type { ConfigData } from './config-file.js'

/**
 * The config file (SPEC §5): envs and the current env, nothing secret. Reads never write;
 * a file we cannot understand is reported and left as it is. `conf` does the atomic writes
 * and is loaded only for them: most commands only read.
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
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const { default: Conf } = await import('conf')
    try {
      const conf = new Conf<Record<string, unknown>>({
        cwd: this.dir,
        configName: 'config',
        projectName: 'tokenctl',
        clearInvalidConfig: false,
        accessPropertiesByDotNotation: false,
        configFileMode: 0o600,
      })
      conf.store = clean
    } catch (error) {
      throw corrupt(this.path, error)
    }
  }

  /** Read, change and write back in one step. */
  async update(change: (data: ConfigData) => void): Promise<ConfigData> {
    const data = this.read()
    change(data)
    await this.write(data)
    return data
  }
}

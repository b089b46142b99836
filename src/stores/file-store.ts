import fs from 'node:fs'
import path from 'node:path'

import { StoreUnavailableError } from '../core/errors.js'
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from '../util/private-file.js'
import { parseRecord, type SecretRecord, type SecretStore } from './types.js'

interface FileData {
  version: 1
  envs: Record<string, SecretRecord>
}

/**
 * SPEC §5 `file`: `<config dir>/credentials.json`, 0600 in a 0700 dir, written atomically.
 * For machines without a keychain; the first write says that tokens now sit in a file.
 */
export class FileStore implements SecretStore {
  readonly file: string

  constructor(
    dir: string,
    private readonly warn: (message: string) => void = () => {},
    readonly kind: 'file' | 'cache' = 'file',
  ) {
    this.file = path.join(dir, 'credentials.json')
  }

  get location(): string {
    return this.kind === 'cache' ? `per-user token cache ${this.file}` : `plain file ${this.file}`
  }

  async get(env: string): Promise<SecretRecord | undefined> {
    return this.read().envs[env]
  }

  async set(env: string, record: SecretRecord): Promise<void> {
    const existed = fs.existsSync(this.file)
    const data = this.read()
    data.envs[env] = record
    this.write(data)
    if (!existed) {
      this.warn(`Tokens are kept in the plain file ${this.file} (mode 0600), not in the OS keychain.`)
    }
  }

  async delete(env: string): Promise<boolean> {
    const data = this.read()
    if (!(env in data.envs)) return false
    delete data.envs[env]
    this.write(data)
    return true
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    return Object.entries(this.read().envs)
  }

  private read(): FileData {
    let text: string | undefined
    try {
      text = readFileIfExists(this.file)
      if (text !== undefined) this.checkMode()
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error
      throw this.unavailable(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error)
    }
    if (text === undefined) return { version: 1, envs: {} }
    const parsed = parseRecord(text) as Partial<FileData> | undefined
    const envs = parsed && typeof parsed.envs === 'object' && parsed.envs !== null ? parsed.envs : undefined
    if (!envs) {
      throw new StoreUnavailableError(
        `The credentials file ${this.file} is not readable JSON.`,
        'Move it away and log in again; tokenctl left it as it was.',
      )
    }
    const clean: Record<string, SecretRecord> = {}
    for (const [env, raw] of Object.entries(envs)) {
      const record = typeof raw === 'object' && raw !== null ? (raw as SecretRecord) : undefined
      if (record) clean[env] = record
    }
    return { version: 1, envs: clean }
  }

  private checkMode(): void {
    if (process.platform === 'win32') return
    const mode = fs.statSync(this.file).mode & 0o777
    if ((mode & 0o077) !== 0) {
      throw new StoreUnavailableError(
        `The credentials file ${this.file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}), so tokenctl will not use it.`,
        `Run: chmod 600 '${this.file}'`,
      )
    }
  }

  private write(data: FileData): void {
    try {
      ensurePrivateDir(path.dirname(this.file))
      writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600)
    } catch (error) {
      throw this.unavailable(`cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the previous content is intact`, error)
    }
  }

  private unavailable(why: string, cause: unknown): StoreUnavailableError {
    return new StoreUnavailableError(`The credentials file ${this.file} ${why}.`, 'Check the permissions of the config dir.', { cause })
  }
}

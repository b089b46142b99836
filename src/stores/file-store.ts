import path from 'node:path'

import { envNameOfKey } from '../base/binding.js'
import { CorruptRecordError, StoreUnavailableError } from '../base/errors.js'
import { acquireLock } from '../base/lock.js'
import {
  checkPrivateDir,
  ensurePrivateDir,
  pathExists,
  readPrivateFile,
  writeFileAtomic,
} from '../base/private-file.js'
import { judgeRecord, type SecretRecord, type SecretStore } from './types.js'
import { isObject } from '../util/is-object.js'

/** The file as it is on disk: entries are judged one by one when asked for, never dropped on a write. */
interface FileData {
  version: 1
  envs: Record<string, unknown>
}

/**
 * docs/design.md#where-things-are-kept `file`: `<config dir>/credentials.json`, 0600 in a 0700 dir, written atomically.
 * For machines without a keychain; the first write says that tokens now sit in a file.
 *
 * One file holds every env, so a write is a read-modify-write of the whole file. Two
 * processes refreshing two envs at the same instant would each write back the other's old
 * record (and lose a rotated refresh token), so every change holds a store-wide lock beside
 * the file; reads need none, since a rename is all or nothing.
 *
 * Every read and every change first checks the dir (ours, 0700, not a symlink) and reads
 * the file only through readPrivateFile (a regular 0600 file of ours): a record someone
 * else planted, or a FIFO that would hang the read, is refused with exit 6 naming it.
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

  private get dir(): string {
    return path.dirname(this.file)
  }

  private get dirLabel(): string {
    return this.kind === 'cache' ? 'The runtime dir' : 'The config dir'
  }

  get location(): string {
    return this.kind === 'cache' ? `per-user token cache ${this.file}` : `plain file ${this.file}`
  }

  async get(env: string): Promise<SecretRecord | undefined> {
    // Own entries only: "constructor" is a valid env name, not Object's constructor.
    const { envs } = this.read()
    const raw = Object.hasOwn(envs, env) ? envs[env] : undefined
    if (raw === undefined) return undefined
    const judged = judgeRecord(raw)
    if ('problem' in judged) {
      throw new CorruptRecordError(
        `The entry of "${env}" in ${this.file} cannot be used (${judged.problem}).`,
        `Run: tokenctl login -e ${envNameOfKey(env)} (it replaces the entry).`,
      )
    }
    return judged.record
  }

  async set(env: string, record: SecretRecord): Promise<void> {
    const created = await this.change((data) => {
      data.envs[env] = record
      return true
    })
    if (created && this.kind === 'file') {
      this.warn(`Tokens are kept in the plain file ${this.file} (mode 0600), not in the OS keychain.`)
    }
  }

  async delete(env: string): Promise<boolean> {
    let found = false
    await this.change((data) => {
      found = Object.hasOwn(data.envs, env)
      delete data.envs[env]
      return found
    })
    return found
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    const records: Array<[string, SecretRecord]> = []
    for (const [env, raw] of Object.entries(this.read().envs)) {
      const judged = judgeRecord(raw)
      if ('record' in judged) records.push([env, judged.record])
    }
    return records
  }

  /**
   * Read, change and write back under the store-wide lock; `change` says whether there is
   * anything to write. Resolves to true when this created the file.
   */
  private async change(change: (data: FileData) => boolean): Promise<boolean> {
    const dir = this.dir
    // Checked before the lock, so that a dir of the wrong kind is named with its own fix.
    checkPrivateDir(dir, this.dirLabel)
    let release: () => void
    try {
      release = await acquireLock(dir, 'credentials')
    } catch (error) {
      const reason = (error as Error).message.replace(/\.$/, '')
      // The lock's own fix (which lock, how to clear it) is the one to follow.
      const fix = error instanceof StoreUnavailableError ? error.fix : undefined
      throw this.unavailable(
        `cannot be written (${reason.charAt(0).toLowerCase()}${reason.slice(1)}); the previous content is intact`,
        error,
        fix,
      )
    }
    try {
      const existed = pathExists(this.file)
      const data = this.read()
      if (!change(data)) return false
      this.write(data)
      return !existed
    } finally {
      release()
    }
  }

  private read(): FileData {
    let text: string | undefined
    try {
      if (checkPrivateDir(this.dir, this.dirLabel)) text = readPrivateFile(this.file, { label: 'The credentials file' })
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error
      throw this.unavailable(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error)
    }
    if (text === undefined) return { version: 1, envs: {} }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    const envs = (parsed as Partial<FileData> | undefined)?.envs
    if (!isObject(envs)) {
      // Left as it is: it may be fixable by hand, and overwriting it would lose every env in it.
      throw new CorruptRecordError(
        `The credentials file ${this.file} is not readable JSON; tokenctl left it as it was.`,
        `Move it away (mv '${this.file}' '${this.file}.bad'), then log in again.`,
      )
    }
    return { version: 1, envs: { ...envs } }
  }

  private write(data: FileData): void {
    try {
      ensurePrivateDir(this.dir, this.dirLabel)
      writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600)
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error
      throw this.unavailable(
        `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the previous content is intact`,
        error,
      )
    }
  }

  private unavailable(
    why: string,
    cause: unknown,
    fix = 'Check the permissions of the config dir and the free space on its disk.',
  ): StoreUnavailableError {
    return new StoreUnavailableError(`The credentials file ${this.file} ${why}.`, fix, { cause })
  }
}

import fs from 'node:fs'

import { envNameOfKey } from '../core/binding.js'
import { debug } from '../core/debug.js'
import { CorruptRecordError, StoreUnavailableError } from '../core/errors.js'
import type { FileStore } from './file-store.js'
import type { SecretRecord, SecretStore, WriteOptions } from './types.js'

/**
 * SPEC §5: "a rotated refresh token is never lost". Once a server has answered a refresh
 * with a new refresh token, the stored one is dead at the server; if the store then fails
 * to take the new record (a keychain that locks itself, a full or read-only disk), the new
 * token exists only in this process. Printing the access token and exiting would lose the
 * login for good, and failing without keeping it would too.
 *
 * So that one write, and only that one, goes to the per-user 0600 cache file of SPEC §5
 * under the runtime dir instead (tmpfs on most systems: gone at reboot, never in a backup),
 * with a warning. Reads take the newer of the store's record and the one kept aside, and
 * `settle` (under the env's lock) moves it back into the store as soon as the store works.
 * A login, which a person can simply run again, never takes this way: like `gh` refusing
 * to fall back to plain text without --insecure-storage, secrets stay in the chosen store.
 */
export class RescuingStore implements SecretStore {
  constructor(
    private readonly primary: SecretStore & { close?: () => void },
    private readonly aside: FileStore,
    private readonly warn: (message: string) => void,
  ) {}

  get kind() {
    return this.primary.kind
  }

  get location() {
    return this.primary.location
  }

  close(): void {
    this.primary.close?.()
  }

  async get(env: string): Promise<SecretRecord | undefined> {
    const kept = await this.kept(env)
    if (!kept) return this.primary.get(env)
    let current: SecretRecord | undefined
    try {
      current = await this.primary.get(env)
    } catch (error) {
      // An entry the store cannot read loses to the one kept aside.
      if (error instanceof CorruptRecordError) return kept
      throw error
    }
    return isNewer(kept, current) ? kept : current
  }

  async set(env: string, record: SecretRecord, options?: WriteOptions): Promise<void> {
    try {
      await this.primary.set(env, record, options)
    } catch (error) {
      if (!options?.irreplaceable || this.isAside()) throw error
      await this.keepAside(env, record, error)
      return
    }
    // What was kept aside is older now; it must not win a later read.
    await this.dropAside(env)
  }

  async delete(env: string): Promise<boolean> {
    const deleted = await this.primary.delete(env)
    return (await this.dropAside(env)) || deleted
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    const records = new Map(await this.primary.list())
    if (!this.isAside() && fs.existsSync(this.aside.file)) {
      for (const [env, kept] of await this.aside.list().catch(() => [])) {
        if (isNewer(kept, records.get(env))) records.set(env, kept)
      }
    }
    return [...records].sort(([a], [b]) => a.localeCompare(b))
  }

  async settle(env: string): Promise<void> {
    const kept = await this.kept(env)
    if (!kept) return
    let current: SecretRecord | undefined
    try {
      current = await this.primary.get(env)
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) return
    }
    if (isNewer(kept, current)) {
      try {
        await this.primary.set(env, kept)
      } catch (error) {
        debug('store', () => `the tokens of ${env} stay in ${this.aside.file}: ${(error as Error).message}`)
        return
      }
      debug('store', () => `moved the tokens of ${env} from ${this.aside.file} back to ${this.primary.location}`)
    }
    await this.dropAside(env)
  }

  /** True when the store is the very file things would be kept aside in (the CI cache of SPEC §5). */
  private isAside(): boolean {
    return this.primary.location === this.aside.location
  }

  private async kept(env: string): Promise<SecretRecord | undefined> {
    if (this.isAside() || !fs.existsSync(this.aside.file)) return undefined
    try {
      return await this.aside.get(env)
    } catch (error) {
      debug('store', () => `ignoring ${this.aside.file}: ${(error as Error).message}`)
      return undefined
    }
  }

  private async keepAside(env: string, record: SecretRecord, failure: unknown): Promise<void> {
    const why = (failure as Error).message
    const clause = (message: string) => message.replace(/\.$/, '')
    try {
      await this.aside.set(env, record)
    } catch (error) {
      throw new StoreUnavailableError(
        `Could not save the new tokens of "${env}": ${why} Keeping them in ${this.aside.file} failed too (${clause((error as Error).message)}). The server had already replaced the refresh token, so the stored one no longer works.`,
        `Fix the store, then run: tokenctl login -e ${envNameOfKey(env)}`,
        { cause: failure },
      )
    }
    this.warn(
      `Could not save the new tokens of "${env}": ${why} The server had already replaced the refresh token, so the new one is kept in ${this.aside.file} (mode 0600) until the store works again; the next tokenctl run for "${env}" moves it back.`,
    )
  }

  private async dropAside(env: string): Promise<boolean> {
    if (this.isAside() || !fs.existsSync(this.aside.file)) return false
    try {
      return await this.aside.delete(env)
    } catch {
      return false
    }
  }
}

/** The record obtained later wins; one without a time loses to one with. */
function isNewer(kept: SecretRecord, current: SecretRecord | undefined): boolean {
  return !current || (kept.obtainedAt ?? 0) > (current.obtainedAt ?? 0)
}

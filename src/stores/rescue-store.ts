import { envNameOfKey } from '../base/binding.js'
import { debug } from '../base/debug.js'
import { CorruptRecordError, StoreUnavailableError } from '../base/errors.js'
import { isFromTheFuture } from '../base/freshness.js'
import { pathExists } from '../base/private-file.js'
import type { FileStore } from './file-store.js'
import type { SecretRecord, SecretStore, WriteOptions } from './types.js'

/**
 * docs/design.md#where-things-are-kept: "a rotated refresh token is never lost". Once a server has answered a refresh
 * with a new refresh token, the stored one is dead at the server; if the store then fails
 * to take the new record (a keychain that locks itself, a full or read-only disk), the new
 * token exists only in this process. Printing the access token and exiting would lose the
 * login for good, and failing without keeping it would too.
 *
 * So that one write, and only that one, goes to the per-user 0600 cache file (docs/design.md#where-things-are-kept)
 * under the runtime dir instead (with XDG_RUNTIME_DIR a tmpfs: gone at reboot, never in a backup;
 * without it a private dir under the user's state dir, on disk),
 * with a warning. Reads take the newer of the store's record and the one kept aside, and
 * `settle` (under the env's lock) moves it back into the store as soon as the store works.
 * A login, which a person can simply run again, never takes this way: like `gh` refusing
 * to fall back to plain text without --insecure-storage, secrets stay in the chosen store.
 *
 * What is kept aside is believed only when this user wrote it: the file store's checks
 * (a private dir, a regular 0600 file of ours, no symlink, no FIFO) refuse anything else
 * out loud, exit 6, rather than pass over it, since someone had to plant it. A kept record
 * dated in the future is not believed either: it never wins over the store's record, is
 * never used, and never moved into the store (a planted or clock-skewed time would
 * otherwise beat every real refresh).
 */
/** Names the file kept aside for a person, in an error about its path. */
const ASIDE_LABEL = 'The token cache file'

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
    if (!kept) return withBelievableTime(await this.primary.get(env))
    let current: SecretRecord | undefined
    try {
      current = await this.primary.get(env)
    } catch (error) {
      // An entry the store cannot read loses to the one kept aside.
      if (error instanceof CorruptRecordError) return kept
      throw error
    }
    return isNewer(kept, current) ? kept : withBelievableTime(current)
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
    if (!this.isAside() && pathExists(this.aside.file, ASIDE_LABEL)) {
      for (const [env, kept] of await this.aside.list().catch(unlessUnsafe)) {
        if (isBelievable(kept) && isNewer(kept, records.get(env))) records.set(env, kept)
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

  /** True when the store is the very file things would be kept aside in (the CI cache, docs/design.md#where-things-are-kept). */
  private isAside(): boolean {
    return this.primary.location === this.aside.location
  }

  /** The record kept aside for `env`, when there is one this user wrote with a believable time. */
  private async kept(env: string): Promise<SecretRecord | undefined> {
    if (this.isAside() || !pathExists(this.aside.file, ASIDE_LABEL)) return undefined
    let kept: SecretRecord | undefined
    try {
      kept = await this.aside.get(env)
    } catch (error) {
      unlessUnsafe(error)
      debug('store', () => `ignoring ${this.aside.file}: ${(error as Error).message}`)
      return undefined
    }
    if (kept && !isBelievable(kept)) {
      debug('store', () => `ignoring the record of ${env} in ${this.aside.file}: it was obtained in the future`)
      return undefined
    }
    return kept
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
    if (this.isAside() || !pathExists(this.aside.file, ASIDE_LABEL)) return false
    try {
      return await this.aside.delete(env)
    } catch {
      return false
    }
  }
}

/**
 * The record obtained later wins; one without a time loses to one with. A store record
 * dated in the future counts as one without a time: no time from the future is believed.
 */
function isNewer(kept: SecretRecord, current: SecretRecord | undefined): boolean {
  if (!current) return true
  const currentAt = current.obtainedAt !== undefined && isBelievable(current) ? current.obtainedAt : 0
  return (kept.obtainedAt ?? 0) > currentAt
}

/**
 * A store record dated in the future loses its date: otherwise it would pass for work
 * another process has just done (session.ts `justObtained`), and `refresh` would do nothing.
 */
function withBelievableTime(record: SecretRecord | undefined): SecretRecord | undefined {
  if (!record || isBelievable(record)) return record
  debug('store', () => `not believing the time the record was obtained at: it is in the future`)
  return { ...record, obtainedAt: undefined }
}

/** Not obtained in the future (beyond the slack of one machine's clock). */
function isBelievable(record: SecretRecord): boolean {
  return record.obtainedAt === undefined || !isFromTheFuture(record.obtainedAt)
}

/**
 * A kept-aside file that fails the checks of a private file (someone else's, a FIFO, a
 * symlink, a dir open to others) is refused out loud; anything else wrong with it (a
 * corrupt entry) only means nothing usable was kept.
 */
function unlessUnsafe(error: unknown): never[] {
  if (error instanceof StoreUnavailableError) throw error
  return []
}

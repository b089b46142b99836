/**
 * A SecretStore (src/stores/types.ts) in memory, for in-process tests of the session. It
 * keeps copies, never the caller's objects, records every write with its options, and can
 * play a broken store: an entry that cannot be read (CorruptRecordError, exit 3), or a
 * keychain out of reach on read or write (StoreUnavailableError, exit 6).
 */
import { CorruptRecordError, StoreUnavailableError } from '../../src/base/errors.js'
import type { ActiveStoreKind, SecretRecord, SecretStore, WriteOptions } from '../../src/stores/types.js'

export class InMemoryStore implements SecretStore {
  readonly location = 'memory'
  private readonly records = new Map<string, SecretRecord>()
  /** Keys whose entry is there but cannot be read. */
  readonly corrupt = new Set<string>()
  /** Every set, in order, as it was asked for. */
  readonly writes: Array<{ key: string; record: SecretRecord; options?: WriteOptions }> = []
  readonly settled: string[] = []
  /** Play a store out of reach: reads, writes, or both, throw StoreUnavailableError. */
  failing: { get?: boolean; set?: boolean } = {}

  constructor(
    initial: Record<string, SecretRecord> = {},
    readonly kind: ActiveStoreKind = 'keychain',
  ) {
    for (const [key, record] of Object.entries(initial)) this.records.set(key, structuredClone(record))
  }

  /** What the store holds now, as a copy: what a later run would read. */
  peek(key: string): SecretRecord | undefined {
    const record = this.records.get(key)
    return record && structuredClone(record)
  }

  /** Put a record in place, as another process would (no write is logged). */
  put(key: string, record: SecretRecord): void {
    this.corrupt.delete(key)
    this.records.set(key, structuredClone(record))
  }

  async get(key: string): Promise<SecretRecord | undefined> {
    if (this.failing.get) throw unavailable()
    if (this.corrupt.has(key))
      throw new CorruptRecordError(
        `The entry of "${key}" in memory cannot be used (not JSON).`,
        `Run: tokenctl login -e ${key} (it replaces the entry).`,
      )
    return this.peek(key)
  }

  async set(key: string, record: SecretRecord, options?: WriteOptions): Promise<void> {
    this.writes.push({ key, record: structuredClone(record), ...(options === undefined ? {} : { options }) })
    if (this.failing.set) throw unavailable()
    this.put(key, record)
  }

  async delete(key: string): Promise<boolean> {
    const had = this.records.has(key) || this.corrupt.has(key)
    this.records.delete(key)
    this.corrupt.delete(key)
    return had
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    return [...this.records]
      .map(([key, record]): [string, SecretRecord] => [key, structuredClone(record)])
      .sort(([a], [b]) => a.localeCompare(b))
  }

  async settle(key: string): Promise<void> {
    this.settled.push(key)
  }
}

function unavailable(): StoreUnavailableError {
  return new StoreUnavailableError(
    'The keychain cannot be reached (in memory, told to fail).',
    'Unlock the keychain and try again.',
  )
}

/**
 * A keychain in memory that keeps each entry as the JSON text the real one is given
 * (src/stores/keychain-store.ts), and, like Windows Credential Manager, refuses a secret
 * over 2,560 bytes of UTF-16 (CRED_MAX_CREDENTIAL_BLOB_SIZE): with the words the keychain
 * library says it in, as the keychain store passes them on (exit 6). A limit of
 * Infinity plays a keychain without one (the Secret Service, macOS).
 */
import { StoreUnavailableError } from '../../src/base/errors.js'
import { parseRecord, type SecretRecord, type SecretStore } from '../../src/stores/types.js'

export const WINDOWS_LIMIT_BYTES = 2560

export class FakeKeychain implements SecretStore {
  readonly kind = 'keychain' as const
  readonly location = 'OS keychain (service "tokenctl")'
  /** Every entry as stored: the account and the exact text. */
  readonly entries = new Map<string, string>()
  closed = false

  constructor(readonly limitBytes = WINDOWS_LIMIT_BYTES) {}

  /** The entry's size as Windows counts it: UTF-16, two bytes per unit. */
  static bytes(text: string): number {
    return 2 * text.length
  }

  async get(account: string): Promise<SecretRecord | undefined> {
    const text = this.entries.get(account)
    return text === undefined ? undefined : parseRecord(text)
  }

  async set(account: string, record: SecretRecord): Promise<void> {
    const text = JSON.stringify(record)
    if (FakeKeychain.bytes(text) > this.limitBytes)
      throw new StoreUnavailableError(
        `The keychain cannot be used: Attribute 'password encoded as UTF-16' is longer than platform limit of ${this.limitBytes} chars.`,
        'Unlock or start your keychain (on Linux a Secret Service such as gnome-keyring), or keep tokens in a file with --store file.',
      )
    this.entries.set(account, text)
  }

  async delete(account: string): Promise<boolean> {
    return this.entries.delete(account)
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    const records: Array<[string, SecretRecord]> = []
    for (const [account, text] of this.entries) {
      const record = parseRecord(text)
      if (record) records.push([account, record])
    }
    return records.sort(([a], [b]) => a.localeCompare(b))
  }

  close(): void {
    this.closed = true
  }
}

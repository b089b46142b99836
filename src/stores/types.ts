/** Everything secret tokenctl keeps for one env: one keychain entry, or one key of the file store. */
export interface SecretRecord {
  refreshToken?: string
  /** Epoch milliseconds. */
  refreshExpiresAt?: number
  accessToken?: string
  /** Epoch milliseconds. */
  accessExpiresAt?: number
  /** Who is logged in, for `status`. Not secret, but it belongs with the tokens. */
  user?: string
  /** When these tokens were obtained (epoch ms): a process that waited for the lock reuses them. */
  obtainedAt?: number
  /** oauth2 client secret typed at login (SPEC §2.2). */
  clientSecret?: string
  /** How the login was made: a client-credentials login is run again instead of refreshed. */
  flow?: 'device' | 'browser' | 'password' | 'client-credentials'
}

export type StoreKind = 'keychain' | 'file'

/** `cache`: the per-user token cache used when the keychain is out of reach in CI (SPEC §5). */
export type ActiveStoreKind = StoreKind | 'cache'

export const STORE_KINDS: readonly StoreKind[] = ['keychain', 'file']

export interface SecretStore {
  readonly kind: ActiveStoreKind
  /** Where the secrets are, in words a person understands. */
  readonly location: string
  get(env: string): Promise<SecretRecord | undefined>
  set(env: string, record: SecretRecord): Promise<void>
  /** True when there was something to delete. */
  delete(env: string): Promise<boolean>
  list(): Promise<Array<[env: string, record: SecretRecord]>>
}

/** Parse a stored record; anything unreadable counts as no record. */
export function parseRecord(text: string): SecretRecord | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as SecretRecord) : undefined
  } catch {
    return undefined
  }
}

import { type Binding, isBinding } from '../base/binding.js'
import { rememberSecrets } from '../base/secrets.js'
import { isSafeToken } from '../util/b64token.js'
import { isObject } from '../util/is-object.js'

/** Everything secret tokenctl keeps for one env: one keychain entry, or one key of the file store. */
export interface SecretRecord {
  refreshToken?: string
  /** Epoch milliseconds. */
  refreshExpiresAt?: number
  accessToken?: string
  /** Epoch milliseconds. */
  accessExpiresAt?: number
  /** oauth2: the OpenID Connect ID token of the last answer that carried one (docs/design.md#kubectl). */
  idToken?: string
  /** Its `exp` claim, epoch milliseconds. */
  idExpiresAt?: number
  /** Who is logged in, for `status`. Not secret, but it belongs with the tokens. */
  user?: string
  /** When these tokens were obtained (epoch ms): a process that waited for the lock reuses them. */
  obtainedAt?: number
  /** oauth2 client secret typed at login (docs/design.md#oauth-20-and-openid-connect). */
  clientSecret?: string
  /** How the login was made: a client-credentials login is run again instead of refreshed. */
  flow?: 'device' | 'browser' | 'password' | 'client-credentials'
  /**
   * What these tokens were issued for (server, client, user): a record used for any other
   * env would send its refresh token to a stranger. Absent in records written before it
   * existed (see bindingMismatch).
   */
  binding?: Binding
}

export type StoreKind = 'keychain' | 'file'

/** `cache`: the per-user token cache used when the keychain is out of reach in CI (docs/design.md#where-things-are-kept). */
export type ActiveStoreKind = StoreKind | 'cache'

export const STORE_KINDS: readonly StoreKind[] = ['keychain', 'file']

export interface WriteOptions {
  /**
   * The record holds the only copy of a refresh token the server has just rotated: the old
   * one is dead there, so a lost write would be a lost login (docs/design.md#where-things-are-kept: a rotated refresh
   * token is never lost).
   */
  irreplaceable?: boolean
}

export interface SecretStore {
  readonly kind: ActiveStoreKind
  /** Where the secrets are, in words a person understands. */
  readonly location: string
  /** Undefined when there is no record; CorruptRecordError (exit 3) when there is one that cannot be used. */
  get(env: string): Promise<SecretRecord | undefined>
  set(env: string, record: SecretRecord, options?: WriteOptions): Promise<void>
  /** True when there was something to delete. */
  delete(env: string): Promise<boolean>
  list(): Promise<Array<[env: string, record: SecretRecord]>>
  /** Move a record kept aside after a failed write back into the store; called under the env's lock. */
  settle?(env: string): Promise<void>
}

/** Parse a stored record; anything unreadable counts as no record. */
export function parseRecord(text: string): SecretRecord | undefined {
  const judged = judgeRecord(parseJson(text))
  return 'record' in judged ? judged.record : undefined
}

/** Parse a stored record, or say what is wrong with it. */
export function parseRecordText(text: string): { record: SecretRecord } | { problem: string } {
  const value = parseJson(text)
  return value === undefined ? { problem: 'not JSON' } : judgeRecord(value)
}

/**
 * A stored value, checked field by field before anything of it is used. Someone else may
 * have written it (another tool, a hand edit, an attacker with the user's files), and its
 * tokens end up in git's credential stream, shell `export` lines and curl configs: a token
 * that is not a plain bearer token makes the whole record unusable (docs/design.md#secrets-never-leak).
 * Unknown fields are left alone, for newer versions of tokenctl.
 */
export function judgeRecord(value: unknown): { record: SecretRecord } | { problem: string } {
  if (!isObject(value)) return { problem: 'not an object' }
  const record = value
  // Secrets even when the record is refused: they must not be printed either.
  rememberSecrets(record.refreshToken, record.accessToken, record.clientSecret, record.idToken)
  const names = { refreshToken: 'refresh', accessToken: 'access', idToken: 'ID' } as const
  for (const key of ['refreshToken', 'accessToken', 'idToken'] as const) {
    const token = record[key]
    if (token === undefined) continue
    if (typeof token !== 'string' || !isSafeToken(token))
      return { problem: `its ${names[key]} token is not a bearer token` }
  }
  for (const key of ['refreshExpiresAt', 'accessExpiresAt', 'idExpiresAt', 'obtainedAt'] as const) {
    const time = record[key]
    if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time) || Math.abs(time) > 8.64e15))
      return { problem: `${key} is not a time` }
  }
  for (const key of ['user', 'clientSecret'] as const) {
    if (record[key] !== undefined && typeof record[key] !== 'string') return { problem: `${key} is not text` }
  }
  // A binding that cannot be read cannot be checked: the record cannot be trusted with a server.
  if (record.binding !== undefined && !isBinding(record.binding))
    return { problem: 'its binding (the server it was issued for) is not readable' }
  return { record: record as SecretRecord }
}

/** Every secret of a record read from a store becomes known to the redaction (docs/design.md#secrets-never-leak). */
export function rememberRecord(record: SecretRecord | undefined): void {
  if (record) rememberSecrets(record.refreshToken, record.accessToken, record.clientSecret, record.idToken)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

import { type Binding, envNameOfKey, isBinding } from '../base/binding.js'
import { StoreUnavailableError } from '../base/errors.js'
import type { AccessCache, CachedAccess } from './access-cache.js'
import type { SecretRecord, SecretStore, WriteOptions } from './types.js'

/**
 * Windows Credential Manager keeps at most this many bytes per secret
 * (CRED_MAX_CREDENTIAL_BLOB_SIZE), and the keychain library stores the text as UTF-16.
 */
export const WINDOWS_SECRET_LIMIT_BYTES = 2560

/**
 * docs/design.md#windows: a record split in two where the keychain keeps little. A
 * Keycloak or Entra ID login (a JWT access token of 2 KB and more) does not fit into one
 * Windows Credential Manager entry, so the keychain entry holds the record without its
 * access token, and the access token with its expiry lives in the per-user access-token
 * cache file of the runtime dir (access-cache.ts: 0600, private dir, the very file the
 * fast path serves cache hits from). Reads put the two back together, so the session,
 * `status`, `env list` and `revoke` see one whole record as on every other system.
 *
 * What stays in the keychain besides the refresh token and a typed client secret, and why:
 * - binding: it is what keeps the refresh token from being sent to another server, so it
 *   must be wherever the refresh token is; a file that could be lost or planted must not
 *   decide it;
 * - refreshExpiresAt and flow: whether the login can still be refreshed, or is a
 *   client-credentials login run again with the kept secret, must survive the runtime dir
 *   (a reboot, a cleaned %TEMP%); without them a working login would read as expired;
 * - user and obtainedAt: `status` names the user after a reboot too, and the time orders
 *   this record against one kept aside after a failed write (rescue-store.ts).
 * All of these are short; the access token alone is what made the record too large.
 *
 * An access token is the cache's only while it belongs to the keychain's login: an entry
 * bound to anything else (left behind by an earlier login whose cache write failed) is
 * not put back. Losing the cache file only costs a refresh.
 */
export class SplitRecordStore implements SecretStore {
  readonly kind = 'keychain' as const

  constructor(
    private readonly keychain: SecretStore & { close?: () => void },
    private readonly cache: AccessCache,
    private readonly limitBytes = WINDOWS_SECRET_LIMIT_BYTES,
  ) {}

  get location(): string {
    return this.keychain.location
  }

  close(): void {
    this.keychain.close?.()
  }

  async get(env: string): Promise<SecretRecord | undefined> {
    const kept = await this.keychain.get(env)
    return kept && this.joined(env, kept)
  }

  async set(env: string, record: SecretRecord, options?: WriteOptions): Promise<void> {
    // An ID token is a JWT of a kilobyte or more too: it goes with the access token.
    const { accessToken, accessExpiresAt, idToken, idExpiresAt, ...kept } = record
    this.checkFits(env, kept)
    await this.keychain.set(env, kept, options)
    // The access token of the login replaced goes even when the new one cannot be cached,
    // so that it never joins the new login. A cache that cannot be changed costs a refresh.
    try {
      this.cache.delete(env)
    } catch {
      return
    }
    if (accessToken !== undefined && accessExpiresAt !== undefined)
      this.cache.set(env, {
        accessToken,
        accessExpiresAt,
        ...(idToken !== undefined && idExpiresAt !== undefined ? { idToken, idExpiresAt } : {}),
        user: record.user,
        binding: record.binding,
      })
  }

  async delete(env: string): Promise<boolean> {
    this.cache.delete(env)
    return this.keychain.delete(env)
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    return (await this.keychain.list()).map(([env, kept]): [string, SecretRecord] => [env, this.joined(env, kept)])
  }

  /** The keychain's part with the access token of the cache, when that token is this login's. */
  private joined(env: string, kept: SecretRecord): SecretRecord {
    // An entry written whole (before the split, or small enough then) is whole already.
    if (kept.accessToken !== undefined) return kept
    const cached = this.cache.get(env)
    if (!cached || !sameBinding(cached, kept.binding)) return kept
    const { idToken, idExpiresAt } = cached
    return {
      ...kept,
      accessToken: cached.accessToken,
      accessExpiresAt: cached.accessExpiresAt,
      ...(idToken !== undefined && idExpiresAt !== undefined ? { idToken, idExpiresAt } : {}),
    }
  }

  /**
   * Checked before the write, so that the person reads the sizes and the way out rather
   * than the keychain's own words. UTF-16 bytes are two per JavaScript string unit.
   * Only sizes are said, never what the secrets are.
   */
  private checkFits(env: string, kept: SecretRecord): void {
    const bytes = 2 * JSON.stringify(kept).length
    if (bytes <= this.limitBytes) return
    const name = envNameOfKey(env)
    const [what, size] = largestSecret(kept)
    const share = size === 0 || size === bytes ? '' : ` (its ${what} alone ${grouped(size)})`
    throw new StoreUnavailableError(
      `The ${what} of "${name}" is too large for Windows Credential Manager: its entry would be ${grouped(bytes)} bytes${share}, and an entry holds at most ${grouped(this.limitBytes)}.`,
      `Keep the tokens of "${name}" in a file instead: tokenctl login -e ${name} --store file (or set TOKENCTL_STORE=file).`,
    )
  }
}

function largestSecret(kept: SecretRecord): [what: string, bytes: number] {
  const refresh = 2 * (kept.refreshToken?.length ?? 0)
  const secret = 2 * (kept.clientSecret?.length ?? 0)
  if (secret === 0 && refresh === 0) return ['login', 0]
  return secret > refresh ? ['client secret', secret] : ['refresh token', refresh]
}

/** Whether a cache entry was made for the login the keychain holds (both unbound counts as the same). */
function sameBinding(cached: CachedAccess, binding: Binding | undefined): boolean {
  const a: unknown = cached.binding
  if (a === undefined || binding === undefined) return a === binding
  if (!isBinding(a)) return false
  return (
    a.protocol === binding.protocol &&
    a.server === binding.server &&
    a.clientId === binding.clientId &&
    a.user === binding.user &&
    (a.endpoints ?? []).join(' ') === (binding.endpoints ?? []).join(' ')
  )
}

/** 3210 → "3,210": the sizes are read by a person. */
function grouped(bytes: number): string {
  return String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

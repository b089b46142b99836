import fs from 'node:fs'
import path from 'node:path'

import type { Binding } from '../base/binding.js'
import { StoreUnavailableError } from '../base/errors.js'
import { rememberSecret } from '../base/secrets.js'
import { isSafeToken } from '../util/b64token.js'
import { checkPrivateDir, ensurePrivateDir, readPrivateFile, writeFileAtomic } from '../base/private-file.js'

/** What a cache hit needs, and nothing more: never the refresh token (docs/design.md#where-things-are-kept). */
export interface CachedAccess {
  accessToken: string
  accessExpiresAt: number
  /** The env's OpenID Connect ID token and its `exp` (epoch ms), when it has one (docs/design.md#kubectl). */
  idToken?: string
  idExpiresAt?: number
  user?: string
  /** What the token was issued for: the fast path serves it only to that very env (matchingEntry). */
  binding?: Binding
}

/**
 * The short-lived access-token cache beside the keychain: one 0600 file per env in the
 * private runtime dir, so a cache hit reads a file instead of starting the keychain helper.
 * Content that cannot be used is a miss (the keychain stays the truth), but a file or a
 * directory that another user could have read or written, or a FIFO or a symlink in place
 * of the file, is refused out loud (exit 6): its token may have been seen or planted, and
 * the person should know. `dir` is the cache dir inside the runtime dir, and both are
 * checked on every read.
 */
export class AccessCache {
  constructor(private readonly dir: string) {}

  /** The runtime dir this cache's dir is in. */
  private get runtimeDir(): string {
    return path.dirname(this.dir)
  }

  file(env: string): string {
    return path.join(this.dir, `${env}.json`)
  }

  get(env: string): CachedAccess | undefined {
    const file = this.file(env)
    if (
      !checkPrivateDir(this.runtimeDir, 'The runtime dir') ||
      !checkPrivateDir(this.dir, 'The access-token cache dir')
    )
      return undefined
    let text: string | undefined
    try {
      text = readPrivateFile(file, { label: 'The access-token cache' })
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error
      return undefined
    }
    if (text === undefined) return undefined
    try {
      const value = JSON.parse(text) as CachedAccess
      if (typeof value.accessToken !== 'string' || typeof value.accessExpiresAt !== 'number') return undefined
      rememberSecret(value.accessToken)
      rememberSecret(value.idToken)
      // Someone else's bytes could end up in git's credential stream or a shell line (docs/design.md#secrets-never-leak).
      if (!isSafeToken(value.accessToken)) return undefined
      if (value.idToken === undefined) return value
      // An ID token that cannot be used is a miss for it alone: the access token is still good.
      const { idToken, idExpiresAt, ...access } = value
      return typeof idToken === 'string' && isSafeToken(idToken) && typeof idExpiresAt === 'number' ? value : access
    } catch {
      return undefined
    }
  }

  set(env: string, entry: CachedAccess): void {
    try {
      ensurePrivateDir(this.runtimeDir, 'The runtime dir')
      ensurePrivateDir(this.dir, 'The access-token cache dir')
      writeFileAtomic(this.file(env), JSON.stringify(entry), 0o600)
    } catch {
      // A cache that cannot be written only costs speed; a dir that fails its check is refused on the next read.
    }
  }

  delete(env: string): void {
    fs.rmSync(this.file(env), { force: true })
  }
}

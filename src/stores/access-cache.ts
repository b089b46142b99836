import fs from 'node:fs'
import path from 'node:path'

import type { Binding } from '../core/binding.js'
import { StoreUnavailableError } from '../core/errors.js'
import { rememberSecret } from '../core/secrets.js'
import { isSafeToken } from '../util/b64token.js'
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from '../util/private-file.js'

/** What a cache hit needs, and nothing more: never the refresh token (SPEC §5). */
export interface CachedAccess {
  accessToken: string
  accessExpiresAt: number
  user?: string
  /** What the token was issued for: the fast path serves it only to that very env (matchingEntry). */
  binding?: Binding
}

/**
 * The short-lived access-token cache beside the keychain: one 0600 file per env in the
 * private runtime dir, so a cache hit reads a file instead of starting the keychain helper.
 * Content that cannot be used is a miss (the keychain stays the truth), but a file that
 * other users can read, or that is not ours, is refused out loud: its token may have been
 * seen, and the person should know (SPEC §5, like the file store).
 */
export class AccessCache {
  constructor(private readonly dir: string) {}

  file(env: string): string {
    return path.join(this.dir, `${env}.json`)
  }

  get(env: string): CachedAccess | undefined {
    const file = this.file(env)
    let text: string | undefined
    try {
      text = readFileIfExists(file)
    } catch {
      return undefined
    }
    if (text === undefined) return undefined
    this.checkOwnership(file)
    try {
      const value = JSON.parse(text) as CachedAccess
      if (typeof value.accessToken !== 'string' || typeof value.accessExpiresAt !== 'number') return undefined
      rememberSecret(value.accessToken)
      // Someone else's bytes could end up in git's credential stream or a shell line (SPEC §9).
      if (!isSafeToken(value.accessToken)) return undefined
      return value
    } catch {
      return undefined
    }
  }

  set(env: string, entry: CachedAccess): void {
    try {
      ensurePrivateDir(this.dir)
      writeFileAtomic(this.file(env), JSON.stringify(entry), 0o600)
    } catch {
      // A cache that cannot be written only costs speed.
    }
  }

  delete(env: string): void {
    fs.rmSync(this.file(env), { force: true })
  }

  private checkOwnership(file: string): void {
    if (process.platform === 'win32') return
    let stat: fs.Stats
    try {
      stat = fs.statSync(file)
    } catch {
      return
    }
    const mode = stat.mode & 0o777
    if ((mode & 0o077) !== 0) {
      throw new StoreUnavailableError(
        `The access-token cache ${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}), so tokenctl will not use it.`,
        `Run: chmod 600 '${file}'`,
      )
    }
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new StoreUnavailableError(`The access-token cache ${file} belongs to another user, so tokenctl will not use it.`, `Remove it: rm '${file}'`)
    }
  }
}

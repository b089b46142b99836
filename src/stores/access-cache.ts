import fs from 'node:fs'
import path from 'node:path'

import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from '../util/private-file.js'

/** What a cache hit needs, and nothing more: never the refresh token (SPEC §5). */
export interface CachedAccess {
  accessToken: string
  accessExpiresAt: number
  user?: string
}

/**
 * The short-lived access-token cache beside the keychain: one 0600 file per env in the
 * private runtime dir, so a cache hit reads a file instead of starting the keychain helper.
 * Every failure here is a miss; the keychain stays the truth.
 */
export class AccessCache {
  constructor(private readonly dir: string) {}

  file(env: string): string {
    return path.join(this.dir, `${env}.json`)
  }

  get(env: string): CachedAccess | undefined {
    try {
      const file = this.file(env)
      const text = readFileIfExists(file)
      if (text === undefined) return undefined
      const stat = fs.statSync(file)
      if ((stat.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && stat.uid !== process.getuid())) return undefined
      const value = JSON.parse(text) as CachedAccess
      return typeof value.accessToken === 'string' && typeof value.accessExpiresAt === 'number' ? value : undefined
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
}

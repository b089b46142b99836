import fs from 'node:fs'
import path from 'node:path'

import type { SecretStore } from '../stores/types.js'
import { LoginRequiredError, StoreUnavailableError } from '../base/errors.js'
import { configDir, type Environ, runtimeDir } from '../base/paths.js'

/**
 * Before a login asks a person anything (a user name, a password, a client secret, a
 * device code or a browser page), the store that must keep what the login gets is shown
 * to be there: a person must never type a password that cannot be kept. The keychain is
 * read (the env's own entry, within the keychain's timeout): unreachable is exit 6 now,
 * not after the prompts. A file store, or the per-user cache, must have a directory that
 * can be written. A record that is there but cannot be used is no obstacle: the login
 * replaces it.
 */
export async function checkStoreBeforeAsking(store: SecretStore, key: string, environ: Environ): Promise<void> {
  try {
    await store.get(key)
  } catch (error) {
    if (!(error instanceof LoginRequiredError)) throw error
  }
  if (store.kind === 'file')
    checkWritableDir(configDir(environ), `The credentials file ${path.join(configDir(environ), 'credentials.json')}`)
  else if (store.kind === 'cache')
    checkWritableDir(runtimeDir(environ), `The per-user token cache in ${runtimeDir(environ)}`)
}

/** The dir, or the nearest existing one above it (the store makes the rest), is a directory this user can write. */
function checkWritableDir(dir: string, what: string): void {
  for (let probe = dir; ; probe = path.dirname(probe)) {
    let stat: fs.Stats
    try {
      stat = fs.statSync(probe)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && path.dirname(probe) !== probe) continue
      throw unwritable(what, dir, code)
    }
    if (!stat.isDirectory()) throw unwritable(what, dir, `${probe} is not a directory`)
    try {
      fs.accessSync(probe, fs.constants.W_OK | fs.constants.X_OK)
    } catch (error) {
      throw unwritable(what, dir, (error as NodeJS.ErrnoException).code)
    }
    return
  }
}

function unwritable(what: string, dir: string, why: string | undefined): StoreUnavailableError {
  return new StoreUnavailableError(
    `${what} cannot be written${why ? ` (${why})` : ''}; the previous content is intact, and nothing was asked.`,
    `Check the permissions of ${dir} and the free space on its disk, or choose another store with --store.`,
  )
}

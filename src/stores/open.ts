import { UsageError } from '../base/errors.js'
import { printable } from '../base/env-name.js'
import { accessCacheDir, configDir, type Environ } from '../base/paths.js'
import { currentPlatform, type Platform } from '../base/platform.js'
import { AccessCache } from './access-cache.js'
import { SplitRecordStore } from './split-record-store.js'
import { STORE_KINDS, type SecretStore, type StoreKind } from './types.js'

/** `--store`, else TOKENCTL_STORE, else the keychain. Never a silent switch to a file. */
export function chooseStoreKind(flag: string | undefined, environ: Environ): StoreKind {
  const value = flag || environ.TOKENCTL_STORE || 'keychain'
  if (!(STORE_KINDS as readonly string[]).includes(value)) {
    const source = flag ? '--store' : 'TOKENCTL_STORE'
    throw new UsageError(
      `${source} must be one of ${STORE_KINDS.join(', ')}, not "${printable(value)}".`,
      `Use ${source === '--store' ? '--store' : 'TOKENCTL_STORE='}keychain or file.`,
    )
  }
  return value as StoreKind
}

export interface OpenStoreOptions {
  environ?: Environ
  warn?: (message: string) => void
  /** Which system the keychain is (Windows keeps little per entry, macOS may ask a person); the running one when absent. */
  platform?: Platform
}

/** Loads only the implementation asked for: the keychain binding is not cheap to load. */
export async function openStore(
  kind: StoreKind,
  options: OpenStoreOptions = {},
): Promise<SecretStore & { close?: () => void }> {
  const environ = options.environ ?? process.env
  if (kind === 'file') {
    const { FileStore } = await import('./file-store.js')
    return new FileStore(configDir(environ), options.warn)
  }
  const { KeychainStore, KEYCHAIN_SERVICE, KEYCHAIN_TIMEOUT_MS } = await import('./keychain-store.js')
  const platform = options.platform ?? currentPlatform(environ)
  const keychain = new KeychainStore(KEYCHAIN_TIMEOUT_MS, KEYCHAIN_SERVICE, { ...environ }, { platform })
  return fitToKeychain(keychain, platform, accessCacheDir(environ, platform))
}

/**
 * The keychain as the platform's keychain can hold it: on Windows, where an entry keeps
 * at most 2,560 bytes, the record is split, its access token in the access-token cache
 * (docs/design.md#windows); elsewhere one entry per env, as it is.
 */
export function fitToKeychain(
  keychain: SecretStore & { close?: () => void },
  platform: Pick<Platform, 'os'>,
  cacheDir: string,
): SecretStore & { close?: () => void } {
  if (platform.os !== 'win32') return keychain
  return new SplitRecordStore(keychain, new AccessCache(cacheDir))
}

import { StoreUnavailableError } from '../base/errors.js'
import type { SecretRecord, SecretStore, WriteOptions } from './types.js'

/**
 * docs/design.md#where-things-are-kept: when no store was chosen, the keychain is out of reach, and credentials from variables can
 * re-derive every token, the tokens go to a per-user cache file instead of failing with 6.
 * Used only in that case: tokenctl never falls back to a file on its own otherwise.
 */
export class FallbackStore implements SecretStore {
  private active: SecretStore

  constructor(
    private readonly primary: SecretStore,
    private readonly fallback: () => SecretStore,
  ) {
    this.active = primary
  }

  get kind() {
    return this.active.kind
  }

  get location() {
    return this.active.location
  }

  get(env: string) {
    return this.attempt((store) => store.get(env))
  }

  set(env: string, record: SecretRecord, options?: WriteOptions) {
    return this.attempt((store) => store.set(env, record, options))
  }

  delete(env: string) {
    return this.attempt((store) => store.delete(env))
  }

  list() {
    return this.attempt((store) => store.list())
  }

  private async attempt<T>(call: (store: SecretStore) => Promise<T>): Promise<T> {
    try {
      return await call(this.active)
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || this.active !== this.primary) throw error
      this.active = this.fallback()
      return call(this.active)
    }
  }
}

/**
 * How a keychain call reaches the keychain. Calls may never settle (a keychain that hangs):
 * KeychainStore bounds each with its own deadline and then abandons the transport.
 */
import type { KeychainRequest } from './keychain-calls.js'

export type { KeychainRequest }

export interface KeychainTransport {
  /**
   * Runs one call. Rejects with KeychainRefusal when the keychain answered with an error,
   * with KeychainBroken when the way to it is gone (later calls fail too).
   */
  call(request: KeychainRequest): Promise<unknown>
  /** A call outlived its deadline: free whatever it holds; no later call is made. */
  abandon(): void
  /** Lets go of an idle connection; the next call opens a new one. */
  close(): void
}

/** The keychain answered, with an error (locked, refused, no Secret Service at the address…). */
export class KeychainRefusal extends Error {}

/** The transport itself failed (the helper could not start or died). */
export class KeychainBroken extends Error {}

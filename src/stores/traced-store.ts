import { debug } from '../base/debug.js'
import type { SecretRecord, SecretStore, WriteOptions } from './types.js'

/**
 * TOKENCTL_DEBUG=1: every store call as one line — which call, for which env, in which
 * store, how long it took and how it ended — never what was read or written.
 * Only put in place when debugging, so the normal path pays nothing for it.
 */
export function traced<T extends SecretStore & { close?: () => void }>(store: T): T {
  const line = async <R>(call: string, work: () => Promise<R>, outcome: (result: R) => string): Promise<R> => {
    const started = Date.now()
    try {
      const result = await work()
      debug('store', () => `${call} in ${store.location}: ${outcome(result)} (${Date.now() - started} ms)`)
      return result
    } catch (error) {
      debug(
        'store',
        () => `${call} in ${store.location}: failed after ${Date.now() - started} ms: ${(error as Error).message}`,
      )
      throw error
    }
  }
  const describe = (record: SecretRecord | undefined) =>
    record
      ? `a record with ${[record.refreshToken && 'a refresh token', record.accessToken && 'an access token'].filter(Boolean).join(' and ') || 'no token'}`
      : 'nothing'
  return new Proxy(store, {
    get(target, property) {
      switch (property) {
        case 'get':
          return (env: string) => line(`get ${env}`, () => target.get(env), describe)
        case 'set':
          return (env: string, record: SecretRecord, options?: WriteOptions) =>
            line(
              `set ${env}`,
              () => target.set(env, record, options),
              () => `saved ${describe(record)}`,
            )
        case 'delete':
          return (env: string) =>
            line(
              `delete ${env}`,
              () => target.delete(env),
              (found) => (found ? 'deleted' : 'nothing to delete'),
            )
        case 'list':
          return () =>
            line(
              'list',
              () => target.list(),
              (records) => `${records.length} records`,
            )
        default: {
          const value = Reflect.get(target, property) as unknown
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        }
      }
    },
  })
}

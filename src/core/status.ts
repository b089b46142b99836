import type { SecretRecord } from '../stores/types.js'
import { bindingMismatch, mismatchError } from '../base/binding.js'
import type { Context } from './context.js'
import { displayUrl } from '../base/env-settings.js'
import { CorruptRecordError } from '../base/errors.js'
import { isLoggedIn } from './login-state.js'

export interface EnvStatus {
  env: string
  loggedIn: boolean
  user: string | null
  protocol: string
  store: string
  accessExpiresAt: number | null
  refreshExpiresAt: number | null
  /** Not in the JSON: what the human view and the exit code need. */
  url: string | null
  storeLocation: string
  /** A token can be had without a person: logged in, or credentials from variables can log in. */
  ready: boolean
  fromVariables: boolean
  /** Why the stored entry cannot be used, when it cannot (it then counts as no login). */
  problem?: string
}

/** docs/design.md#commands `status`: read-only, never refreshes, never shows a token. */
export async function statusOf(
  { env, key, binding, store, credentials }: Context,
  now = Date.now(),
): Promise<EnvStatus> {
  let record: SecretRecord | undefined
  let problem: string | undefined
  try {
    record = await store.get(key)
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error
    problem = error.message
  }
  // A login made for another server, client or user is not a login to this env: the
  // session would not use it, so status must not say it is there.
  const mismatch = record && bindingMismatch(record.binding, binding)
  if (mismatch) {
    record = undefined
    problem = mismatchError(env.name, mismatch).message
  }
  const loggedIn = isLoggedIn(record, now)
  return {
    env: env.name,
    loggedIn,
    user: record?.user ?? credentials?.password?.username ?? env.username ?? null,
    protocol: env.protocol,
    store: store.kind,
    accessExpiresAt: record?.accessToken ? (record.accessExpiresAt ?? null) : null,
    refreshExpiresAt: record?.refreshToken ? (record.refreshExpiresAt ?? null) : null,
    url: displayUrl(env),
    storeLocation: store.location,
    // A client-credentials login with its typed secret kept is simply run again: no person needed.
    ready: loggedIn || Boolean(credentials) || (record?.flow === 'client-credentials' && Boolean(record.clientSecret)),
    fromVariables: Boolean(credentials),
    ...(problem ? { problem } : {}),
  }
}

/**
 * The keychain calls themselves, made with `@napi-rs/keyring`, for both transports
 * (keychain-thread-transport.ts in this process, keychain-agent.ts in a helper process).
 */
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring'

export interface KeychainRequest {
  op: 'get' | 'set' | 'delete' | 'list'
  service: string
  account?: string
  secret?: string
}

// Without the pin, keyring-rs falls back to the kernel keyring on Linux, which forgets
// everything at reboot; docs/design.md#where-things-are-kept wants the Secret Service or a clear failure.
const OPTIONS = { linux: { store: 'secret-service' as const } }

/** One keychain connection's memory: whether the keychain has answered anything yet. */
export interface CallState {
  answered: boolean
}

/**
 * On Linux `new AsyncEntry` opens the Secret Service session on the calling thread, so on
 * a bus that never answers it never returns and no timer can fire. The search runs on the
 * threadpool instead: a first `get` filters it by account, and every other call builds an
 * entry only once a search has answered (the bus is alive), so a hang leaves the calling
 * thread free.
 */
export async function performCall(request: KeychainRequest, os: NodeJS.Platform, state: CallState): Promise<unknown> {
  const linux = os === 'linux'
  // Until the bus has answered once, a `get` is that search filtered by account (it reads
  // every tokenctl item); after, an entry of its own, which reads only its item.
  if (request.op === 'list' || (request.op === 'get' && linux && !state.answered)) {
    const found = await search(request.service, state)
    if (request.op === 'get') return found.find(({ account }) => account === request.account)?.password ?? null
    return found.map(({ account, password }) => [account, password])
  }
  if (linux && !state.answered) await search(request.service, state)
  const entry = new AsyncEntry(request.service, request.account ?? '', OPTIONS)
  switch (request.op) {
    case 'get':
      return await entry.getPassword()
    case 'set':
      await entry.setPassword(request.secret ?? '')
      return null
    case 'delete':
      return await entry.deleteCredential()
  }
}

async function search(service: string, state: CallState): Promise<Array<{ account: string; password: string }>> {
  try {
    return await findCredentialsAsync(service)
  } finally {
    state.answered = true
  }
}

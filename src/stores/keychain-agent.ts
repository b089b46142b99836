/**
 * The keychain's own process. `@napi-rs/keyring` opens the Secret Service connection
 * synchronously, and a bus that never answers (a locked or absent Secret Service, WSL)
 * blocks the thread for good: neither a timer nor a worker thread can get the CLI out
 * of that. So the calls run here, one JSON line per request on stdin and per answer on
 * stdout, and the parent kills this process when a call outlives its timeout.
 */
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring'
import { createInterface } from 'node:readline'

export interface AgentRequest {
  id: number
  op: 'get' | 'set' | 'delete' | 'list'
  service: string
  account?: string
  secret?: string
}

export type AgentReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

// Without the pin, keyring-rs falls back to the kernel keyring on Linux, which forgets
// everything at reboot; docs/design.md#where-things-are-kept wants the Secret Service or a clear failure.
const OPTIONS = { linux: { store: 'secret-service' as const } }

async function handle(request: AgentRequest): Promise<unknown> {
  if (request.op === 'list') {
    const found = await findCredentialsAsync(request.service)
    return found.map(({ account, password }) => [account, password])
  }
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

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  let request: AgentRequest
  try {
    request = JSON.parse(line) as AgentRequest
  } catch {
    return
  }
  handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) =>
      reply({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  )
})

function reply(answer: AgentReply): void {
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}

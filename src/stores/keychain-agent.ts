/**
 * The keychain's own process, for where the keychain cannot be called in the CLI's own
 * (keychain-agent-transport.ts says when). A call on a bus that never answers blocks its
 * thread for good, and without `process.execve` nothing gets a process with such a
 * thread out; this process is simply killed. One JSON line per request on stdin and per
 * answer on stdout.
 */
import { createInterface } from 'node:readline'

import { currentPlatform } from '../base/platform.js'
import { type KeychainRequest, performCall } from './keychain-calls.js'

export interface AgentRequest extends KeychainRequest {
  id: number
}

export type AgentReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

const os = currentPlatform().os
const state = { answered: false }

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  let request: AgentRequest
  try {
    request = JSON.parse(line) as AgentRequest
  } catch {
    return
  }
  performCall(request, os, state).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) =>
      reply({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  )
})

function reply(answer: AgentReply): void {
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}

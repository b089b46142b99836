import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

import { withoutSecretVariables } from '../base/credentials.js'
import type { AgentReply, AgentRequest } from './keychain-agent.js'
import { KeychainBroken, KeychainRefusal, type KeychainRequest, type KeychainTransport } from './keychain-transport.js'

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void }

/**
 * Every call goes to one helper process (keychain-agent.ts), killed when a call outlives
 * its deadline. Used where this process could not leave a hung call behind (Node without
 * `process.execve`, Windows), and where the keychain to use is another process's (a
 * different D-Bus address than this process's own).
 */
export class AgentTransport implements KeychainTransport {
  private agent?: ChildProcessByStdio<Writable, Readable, null>
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  /** `environ`: the helper's environment (the D-Bus address on Linux). */
  constructor(private readonly environ: NodeJS.ProcessEnv) {}

  call(request: KeychainRequest): Promise<unknown> {
    const agent = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.setBusy(true)
      agent.stdin.write(`${JSON.stringify({ ...request, id } satisfies AgentRequest)}\n`)
    })
  }

  abandon(): void {
    this.pending.clear()
    this.agent?.kill('SIGKILL')
    this.agent = undefined
  }

  close(): void {
    this.agent?.stdin.end()
    this.agent = undefined
  }

  private start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.agent) return this.agent
    const agent = spawn(process.execPath, agentArgs(), {
      // The helper needs the session bus, not the passwords and secrets the job was given.
      env: withoutSecretVariables(this.environ),
      stdio: ['pipe', 'pipe', 'ignore'],
      windowsHide: true,
    })
    agent.on('error', (error) => this.broken(`The keychain helper could not start: ${error.message}.`))
    agent.on('exit', () => {
      // A helper let go by close() ends on its own; the calls pending now are a newer helper's.
      if (this.agent !== agent) return
      this.agent = undefined
      if (this.pending.size > 0) this.broken('The keychain helper stopped unexpectedly.')
    })
    // A helper that died just before a write must end in exit 6, not an uncaught EPIPE.
    agent.stdin.on('error', () => this.broken('The keychain helper stopped unexpectedly.'))
    createInterface({ input: agent.stdout }).on('line', (line) => this.answer(line))
    this.agent = agent
    return agent
  }

  private answer(line: string): void {
    let reply: AgentReply
    try {
      reply = JSON.parse(line) as AgentReply
    } catch {
      return
    }
    const pending = this.pending.get(reply.id)
    if (!pending) return
    this.pending.delete(reply.id)
    if (this.pending.size === 0) this.setBusy(false)
    if (reply.ok) pending.resolve(reply.value)
    else pending.reject(new KeychainRefusal(reply.error))
  }

  private broken(message: string): void {
    const waiting = [...this.pending.values()]
    this.abandon()
    for (const pending of waiting) pending.reject(new KeychainBroken(message))
  }

  /** An idle helper must not keep the CLI alive; a busy one must. */
  private setBusy(busy: boolean): void {
    const agent = this.agent
    if (!agent) return
    const streams = [agent.stdout, agent.stdin] as unknown as Array<{ ref?: () => void; unref?: () => void }>
    if (busy) {
      agent.ref()
      for (const stream of streams) stream.ref?.()
    } else {
      agent.unref()
      for (const stream of streams) stream.unref?.()
    }
  }
}

/** From dist/ the agent is plain JS; from src/ (tests, bin/dev.js) it needs tsx. */
function agentArgs(): string[] {
  const js = fileURLToPath(new URL('./keychain-agent.js', import.meta.url))
  if (existsSync(js)) return [js]
  return ['--import', 'tsx', js.replace(/\.js$/, '.ts')]
}

import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

import { envNameOfKey } from '../base/binding.js'
import { withoutSecretVariables } from '../base/credentials.js'
import { CorruptRecordError, StoreUnavailableError } from '../base/errors.js'
import type { AgentReply, AgentRequest } from './keychain-agent.js'
import { parseRecord, parseRecordText, type SecretRecord, type SecretStore } from './types.js'

export const KEYCHAIN_SERVICE = 'tokenctl'
/** docs/design.md#where-things-are-kept: every keychain call answers within 3 s or the store counts as unavailable. */
export const KEYCHAIN_TIMEOUT_MS = 3000

const FIX =
  'Unlock or start your keychain (on Linux a Secret Service such as gnome-keyring), or keep tokens in a file with --store file.'

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }

/**
 * docs/design.md#where-things-are-kept `keychain`: service `tokenctl`, account = env name, the record as JSON.
 * All calls go through one helper process (see keychain-agent.ts for why).
 */
export class KeychainStore implements SecretStore {
  readonly kind = 'keychain' as const
  readonly location = `OS keychain (service "${KEYCHAIN_SERVICE}")`
  private agent?: ChildProcessByStdio<Writable, Readable, null>
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private failure?: StoreUnavailableError

  constructor(
    private readonly timeoutMs = KEYCHAIN_TIMEOUT_MS,
    private readonly service = KEYCHAIN_SERVICE,
    /** The helper's environment (the D-Bus address on Linux); the parent's when absent. */
    private readonly environ?: NodeJS.ProcessEnv,
  ) {}

  async get(env: string): Promise<SecretRecord | undefined> {
    const text = (await this.call({ op: 'get', account: env })) as string | null
    if (text === null) return undefined
    const judged = parseRecordText(text)
    if ('problem' in judged) {
      throw new CorruptRecordError(
        `The keychain entry of "${env}" cannot be used (${judged.problem}).`,
        `Run: tokenctl login -e ${envNameOfKey(env)} (it replaces the entry).`,
      )
    }
    return judged.record
  }

  async set(env: string, record: SecretRecord): Promise<void> {
    await this.call({ op: 'set', account: env, secret: JSON.stringify(record) })
  }

  async delete(env: string): Promise<boolean> {
    return (await this.call({ op: 'delete', account: env })) === true
  }

  async list(): Promise<Array<[string, SecretRecord]>> {
    const found = (await this.call({ op: 'list' })) as Array<[string, string]>
    const records: Array<[string, SecretRecord]> = []
    for (const [account, text] of found) {
      const record = parseRecord(text)
      if (record) records.push([account, record])
    }
    return records.sort(([a], [b]) => a.localeCompare(b))
  }

  /** Stop the helper process; safe to call at any time. */
  close(): void {
    this.agent?.stdin.end()
    this.agent = undefined
  }

  private call(request: Omit<AgentRequest, 'id' | 'service'>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure)
    const agent = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new StoreUnavailableError(`The keychain did not answer within ${this.timeoutMs / 1000} s.`, FIX))
      }, this.timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      this.setBusy(true)
      agent.stdin.write(`${JSON.stringify({ ...request, id, service: this.service })}\n`)
    })
  }

  private start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.agent) return this.agent
    const agent = spawn(process.execPath, agentArgs(), {
      // The helper needs the session bus, not the passwords and secrets the job was given.
      env: withoutSecretVariables(this.environ ?? process.env),
      stdio: ['pipe', 'pipe', 'ignore'],
      windowsHide: true,
    })
    agent.on('error', (error) =>
      this.fail(new StoreUnavailableError(`The keychain helper could not start: ${error.message}.`, FIX)),
    )
    agent.on('exit', () => {
      // A helper let go by close() ends on its own; the calls pending now are a newer helper's.
      if (this.agent !== agent) return
      this.agent = undefined
      if (this.pending.size > 0) this.fail(new StoreUnavailableError('The keychain helper stopped unexpectedly.', FIX))
    })
    // A helper that died just before a write must end in exit 6, not an uncaught EPIPE.
    agent.stdin.on('error', () =>
      this.fail(new StoreUnavailableError('The keychain helper stopped unexpectedly.', FIX)),
    )
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
    clearTimeout(pending.timer)
    if (this.pending.size === 0) this.setBusy(false)
    if (reply.ok) pending.resolve(reply.value)
    else pending.reject(new StoreUnavailableError(`The keychain cannot be used: ${shorten(reply.error)}.`, FIX))
  }

  /** The helper is hung or gone: every waiting call fails, and so does every later one. */
  private fail(error: StoreUnavailableError): void {
    this.failure ??= error
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer)
      pending.reject(this.failure)
    }
    this.pending.clear()
    this.agent?.kill('SIGKILL')
    this.agent = undefined
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

function shorten(message: string): string {
  const clean = message.replace(/\s+/g, ' ').trim()
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean
}

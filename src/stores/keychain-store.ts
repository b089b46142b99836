import { envNameOfKey } from '../base/binding.js'
import { CorruptRecordError, StoreUnavailableError } from '../base/errors.js'
import { currentPlatform, type Platform } from '../base/platform.js'
import { AgentTransport } from './keychain-agent-transport.js'
import { KEYCHAIN_TIMEOUT_MS, keychainPolicy, type KeychainPolicy } from './keychain-policy.js'
import { execveOf, ThreadTransport } from './keychain-thread-transport.js'
import { KeychainBroken, type KeychainRequest, type KeychainTransport } from './keychain-transport.js'
import { parseRecord, parseRecordText, type SecretRecord, type SecretStore } from './types.js'

export { KEYCHAIN_TIMEOUT_MS }
export const KEYCHAIN_SERVICE = 'tokenctl'

export interface KeychainOptions {
  /** The machine's facts: the OS picks the wait policy and the hints. */
  platform?: Platform
  /** How calls reach the keychain; chosen by `chooseTransport` when absent. */
  transport?: KeychainTransport
  /** Where the "macOS is asking" line goes; stderr when absent. */
  notice?: (line: string) => void
}

/**
 * In this process where a hung call can be left behind (`process.execve`, not Windows) and
 * the keychain is this process's own (on Linux: the same D-Bus address); else in a helper
 * process (keychain-agent-transport.ts).
 */
export function chooseTransport(platform: Platform, environ: NodeJS.ProcessEnv | undefined): KeychainTransport {
  const execve = execveOf()
  const ownBus =
    environ === undefined ||
    platform.os !== 'linux' ||
    environ.DBUS_SESSION_BUS_ADDRESS === process.env.DBUS_SESSION_BUS_ADDRESS
  if (execve && platform.os !== 'win32' && ownBus) return new ThreadTransport(platform.os, execve)
  return new AgentTransport(environ ?? process.env)
}

type Waiter = { reject: (error: Error) => void; timers: NodeJS.Timeout[] }

/** docs/design.md#where-things-are-kept `keychain`: service `tokenctl`, account = env name, the record as JSON. */
export class KeychainStore implements SecretStore {
  readonly kind = 'keychain' as const
  readonly location = `OS keychain (service "${KEYCHAIN_SERVICE}")`
  private readonly platform: Platform
  private readonly policy: KeychainPolicy
  private readonly notice: (line: string) => void
  private transport?: KeychainTransport
  private readonly waiting = new Set<Waiter>()
  private asked = false
  private failure?: StoreUnavailableError

  constructor(
    timeoutMs = KEYCHAIN_TIMEOUT_MS,
    private readonly service = KEYCHAIN_SERVICE,
    /** The keychain's environment (the D-Bus address on Linux); the process's own when absent. */
    private readonly environ?: NodeJS.ProcessEnv,
    options: KeychainOptions = {},
  ) {
    this.platform = options.platform ?? currentPlatform(environ ?? process.env)
    this.policy = keychainPolicy(this.platform, timeoutMs)
    this.notice = options.notice ?? ((line) => process.stderr.write(line))
    this.transport = options.transport
  }

  async get(env: string): Promise<SecretRecord | undefined> {
    const text = (await this.call({ op: 'get', account: env })) as string | null
    if (text === null || text === undefined) return undefined
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

  /** Lets go of the connection (the helper process, if any); safe to call at any time. */
  close(): void {
    this.transport?.close()
  }

  private call(request: Omit<KeychainRequest, 'service'>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure)
    this.transport ??= chooseTransport(this.platform, this.environ)
    const transport = this.transport
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { reject, timers: [] }
      const done = () => {
        for (const timer of waiter.timers) clearTimeout(timer)
        this.waiting.delete(waiter)
      }
      waiter.timers.push(
        setTimeout(() => {
          const seconds = this.policy.deadlineMs / 1000
          this.fail(new StoreUnavailableError(`The keychain did not answer within ${seconds} s.`, this.policy.fix))
          transport.abandon()
        }, this.policy.deadlineMs),
      )
      const { askingAfterMs, asking } = this.policy
      if (askingAfterMs !== undefined && asking) {
        waiter.timers.push(
          setTimeout(() => {
            if (this.asked) return
            this.asked = true
            this.notice(`${asking}\n`)
          }, askingAfterMs),
        )
      }
      this.waiting.add(waiter)
      transport.call({ ...request, service: this.service }).then(
        (value) => {
          if (!this.waiting.has(waiter)) return
          done()
          resolve(value)
        },
        (error: Error) => {
          if (!this.waiting.has(waiter)) return
          done()
          if (error instanceof KeychainBroken) {
            this.fail(new StoreUnavailableError(error.message, this.policy.fix))
            reject(this.failure!)
          } else {
            reject(
              new StoreUnavailableError(`The keychain cannot be used: ${shorten(error.message)}.`, this.policy.fix),
            )
          }
        },
      )
    })
  }

  /** The keychain is hung or gone: every waiting call fails, and so does every later one. */
  private fail(error: StoreUnavailableError): void {
    this.failure ??= error
    for (const waiter of this.waiting) {
      for (const timer of waiter.timers) clearTimeout(timer)
      waiter.reject(this.failure)
    }
    this.waiting.clear()
  }
}

function shorten(message: string): string {
  const clean = message.replace(/\s+/g, ' ').trim()
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean
}

/**
 * An AuthProtocol (src/protocols/types.ts) that answers from a script and records what it
 * was asked, for in-process tests of the session: "refresh was sent exactly once, with
 * refresh token R1". Each call takes the next answer of its kind: tokens, or an error to
 * throw. A call the script has no answer for fails the test loudly: a request the session
 * must not make shows up as an error, never as a quiet success.
 */
import type { AuthProtocol, ClientSecret, LoginFlow, LoginRequest, TokenSet } from '../../src/protocols/types.js'

export type Answer = TokenSet | Error
export type RevokeAnswer = 'revoked' | 'unsupported' | Error

export type Call =
  | { method: 'refresh'; refreshToken: string }
  | { method: 'login'; request: LoginRequest }
  | { method: 'revoke'; tokens: { refreshToken?: string; accessToken?: string } }
  | { method: 'defaultFlow' }

export interface Script {
  refresh?: Answer[]
  login?: Answer[]
  revoke?: RevokeAnswer[]
  defaultFlow?: LoginFlow
  /** What typedClientSecret() says after a login: a secret a person typed. */
  typedClientSecret?: string
}

export class ScriptedProtocol implements AuthProtocol {
  readonly calls: Call[] = []
  /** The client secret the protocol was built with, each time the session built it. */
  readonly builtWith: Array<ClientSecret | undefined> = []
  private readonly script: Required<Pick<Script, 'refresh' | 'login' | 'revoke'>> & Script

  constructor(script: Script = {}) {
    this.script = { refresh: [], login: [], revoke: [], ...script }
  }

  /** SessionOptions.protocol: builds (that is, hands out) this protocol, noting the secret. */
  readonly factory = async (clientSecret?: ClientSecret): Promise<AuthProtocol> => {
    this.builtWith.push(clientSecret)
    return this
  }

  /** The calls of one kind, in order. */
  of<M extends Call['method']>(method: M): Array<Extract<Call, { method: M }>> {
    return this.calls.filter((call): call is Extract<Call, { method: M }> => call.method === method)
  }

  async defaultFlow(): Promise<LoginFlow> {
    this.calls.push({ method: 'defaultFlow' })
    if (!this.script.defaultFlow) throw new Error('ScriptedProtocol: defaultFlow was not scripted')
    return this.script.defaultFlow
  }

  async login(request: LoginRequest): Promise<TokenSet> {
    this.calls.push({ method: 'login', request })
    return answer(this.script.login.shift(), 'login')
  }

  async refresh(refreshToken: string): Promise<TokenSet> {
    this.calls.push({ method: 'refresh', refreshToken })
    return answer(this.script.refresh.shift(), 'refresh')
  }

  async revoke(tokens: { refreshToken?: string; accessToken?: string }): Promise<'revoked' | 'unsupported'> {
    this.calls.push({ method: 'revoke', tokens })
    const next = this.script.revoke.shift()
    if (next === undefined) throw new Error('ScriptedProtocol: no revoke was scripted')
    if (next instanceof Error) throw next
    return next
  }

  typedClientSecret(): string | undefined {
    return this.script.typedClientSecret
  }
}

function answer(next: Answer | undefined, method: string): TokenSet {
  if (next === undefined) throw new Error(`ScriptedProtocol: no ${method} was scripted`)
  if (next instanceof Error) throw next
  return structuredClone(next)
}

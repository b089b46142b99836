import { rememberSecret } from '../base/secrets.js'
import type { ClientSecret, Interaction } from './types.js'

/** How a confidential client sends its secret: Basic (the default) or in the form body. */
export type ClientAuthMethod = 'basic' | 'post' | undefined

/** What a request adds to authenticate the client: fields after the form's own, and headers. */
export interface ClientAuthentication {
  body: Record<string, string>
  headers: Record<string, string>
}

/**
 * RFC 6749 §2.3.1: Basic with form-encoded id and secret, or both in the body; a public
 * client sends its id only.
 */
export function clientAuthentication(
  clientId: string,
  secret: string | undefined,
  method: ClientAuthMethod,
): ClientAuthentication {
  if (secret === undefined) return { body: { client_id: clientId }, headers: {} }
  // A server (or proxy) that quotes the request back may quote the pair or the Basic
  // header, not only the secret alone: every form of it is masked wherever it is printed.
  rememberSecret(`${clientId}:${secret}`)
  if (method === 'post') return { body: { client_id: clientId, client_secret: secret }, headers: {} }
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)
  const pair = `${encode(clientId)}:${encode(secret)}`
  const basic = Buffer.from(pair).toString('base64')
  rememberSecret(pair)
  rememberSecret(basic)
  return { body: {}, headers: { authorization: `Basic ${basic}` } }
}

/**
 * Who we are to the provider for one run: the client id, and its secret as far as we have
 * one. The secret can change in the middle of a login, when the server refuses the client
 * and a person types one; that typed secret is what the store keeps afterwards.
 */
export class OAuthClient {
  constructor(
    readonly id: string,
    public secret: ClientSecret | undefined,
  ) {}

  /** The secret a person typed during this run, if one did (only a prompt sets one `from: 'person'`). */
  get typed(): string | undefined {
    return this.secret?.from === 'person' ? this.secret.value : undefined
  }

  authentication(method: ClientAuthMethod): ClientAuthentication {
    return clientAuthentication(this.id, this.secret?.value, method)
  }

  /** A person at a terminal may supply the secret the server asks for; one from a variable is not second-guessed. */
  async askForSecret(interaction: Interaction | undefined): Promise<boolean> {
    if (!interaction?.askClientSecret || this.secret?.from === 'variable') return false
    const value = await interaction.askClientSecret(this.secret ? 'rejected' : 'missing')
    if (!value) return false
    this.secret = { value, from: 'person' }
    return true
  }
}

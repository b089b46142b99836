import { UsageError } from '../base/errors.js'

/**
 * git's credential helper protocol (gitcredentials(7), docs/design.md#git-and-curl): `key=value` lines ended
 * by a blank line or EOF, unknown keys ignored, `url=` expanded into its parts.
 */
export interface CredentialRequest {
  protocol?: string
  host?: string
  path?: string
  username?: string
  password?: string
  credential?: string
  capabilities: string[]
}

/** More than any request git sends; a flood on stdin is not read past this. */
export const MAX_INPUT = 1024 * 1024

/** git refuses longer lines itself; anything past this is not a request from git. */
export const MAX_LINE = 64 * 1024

/** Parse what git sent; undefined when it is not a credential request at all (binary, garbage). */
export function parseCredentialRequest(input: Buffer | string): CredentialRequest | undefined {
  const text = typeof input === 'string' ? input : input.toString('utf8')
  if (text.includes('\u0000') || text.includes('\uFFFD')) return undefined
  const request: CredentialRequest = { capabilities: [] }
  let sawKey = false
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') break
    if (line.length > MAX_LINE) return undefined
    const eq = line.indexOf('=')
    if (eq <= 0) return undefined
    const key = line.slice(0, eq)
    const value = line.slice(eq + 1)
    sawKey = true
    switch (key) {
      case 'protocol':
      case 'host':
      case 'path':
      case 'username':
      case 'password':
      case 'credential':
        request[key] = value
        break
      case 'url':
        if (!expandUrl(value, request)) return undefined
        break
      case 'capability[]':
        if (value === '') request.capabilities = []
        else request.capabilities.push(value)
        break
      default:
      // Unknown keys are for other helpers or newer gits.
    }
  }
  return sawKey ? request : undefined
}

function expandUrl(value: string, request: CredentialRequest): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  request.protocol = url.protocol.replace(/:$/, '')
  request.host = url.host
  if (url.username) request.username = decodeURIComponent(url.username)
  if (url.password) request.password = decodeURIComponent(url.password)
  const path = url.pathname.replace(/^\//, '')
  if (path) request.path = decodeURIComponent(path)
  return true
}

export interface CredentialAnswer {
  username: string
  token: string
  expiresAt: number
}

/**
 * The answer to `get`; with `capability[]=authtype` (git >= 2.46) a Bearer credential instead of user/password.
 * Every value is one line: the token is a checked b64token, and a user name with a line
 * break (from TOKENCTL_USERNAME, a hand-edited config) would add lines of its own to git's
 * stream, so it is refused rather than written.
 */
export function formatCredentialAnswer(request: CredentialRequest, answer: CredentialAnswer): string {
  for (const [what, value] of [
    ['user name', answer.username],
    ['token', answer.token],
  ] as const) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value))
      throw new UsageError(
        `The ${what} for git holds a control character, so it cannot be handed to git.`,
        'Log in again with a plain user name: tokenctl login --username NAME',
      )
  }
  const expiry = Math.floor(answer.expiresAt / 1000)
  if (request.capabilities.includes('authtype')) {
    return [
      'capability[]=authtype',
      'authtype=Bearer',
      `credential=${answer.token}`,
      'ephemeral=true',
      `password_expiry_utc=${expiry}`,
      '',
    ].join('\n')
  }
  return [`username=${answer.username}`, `password=${answer.token}`, `password_expiry_utc=${expiry}`, ''].join('\n')
}

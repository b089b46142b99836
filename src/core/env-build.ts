import { printable } from '../base/env-name.js'
import type { EnvSettings, Protocol } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import { checkServerUrl } from '../base/url-policy.js'

export interface EnvInput {
  url?: string
  issuer?: string
  protocol?: Protocol
  clientId?: string
  clientAuth?: 'basic' | 'post'
  scope?: string
  tokenPath?: string
  refreshPath?: string
  revokePath?: string
  tokenUrl?: string
  deviceUrl?: string
  authorizeUrl?: string
  revokeUrl?: string
  username?: string
  gitHosts?: string[]
  allowHttp?: boolean
}

/** Check what `env add` was given and turn it into the settings the config keeps. */
export function buildEnvSettings(input: EnvInput): EnvSettings {
  const protocol: Protocol = input.protocol ?? (input.issuer || input.tokenUrl ? 'oauth2' : 'api')
  const allowHttp = Boolean(input.allowHttp)
  const url = (value: string | undefined, flag: string) =>
    value === undefined ? undefined : checkServerUrl(value, flag, allowHttp)
  const settings: EnvSettings = { protocol }

  if (protocol === 'api') {
    if (!input.url) throw new UsageError('An api env needs the server URL.', 'Pass --url https://auth.example.com.')
    const misplaced = (
      ['issuer', 'tokenUrl', 'deviceUrl', 'authorizeUrl', 'revokeUrl', 'clientId', 'clientAuth', 'scope'] as const
    ).find((key) => input[key] !== undefined)
    if (misplaced)
      throw new UsageError(
        `--${kebab(misplaced)} is for oauth2 envs.`,
        'Pass --protocol oauth2, or leave the flag out.',
      )
    settings.url = url(input.url, '--url')
    settings.tokenPath = path(input.tokenPath, '--token-path')
    settings.refreshPath = path(input.refreshPath, '--refresh-path')
    settings.revokePath = path(input.revokePath, '--revoke-path')
  } else {
    const misplaced = (['tokenPath', 'refreshPath', 'revokePath'] as const).find((key) => input[key] !== undefined)
    if (misplaced)
      throw new UsageError(
        `--${kebab(misplaced)} is for api envs.`,
        'oauth2 envs take --token-url and friends, or --issuer.',
      )
    if (!input.issuer && !input.tokenUrl) {
      throw new UsageError(
        'An oauth2 env needs an issuer or a token endpoint.',
        'Pass --issuer URL (endpoints are discovered) or --token-url URL.',
      )
    }
    settings.issuer = url(input.issuer, '--issuer')
    settings.url = url(input.url, '--url')
    settings.tokenUrl = url(input.tokenUrl, '--token-url')
    settings.deviceUrl = url(input.deviceUrl, '--device-url')
    settings.authorizeUrl = url(input.authorizeUrl, '--authorize-url')
    settings.revokeUrl = url(input.revokeUrl, '--revoke-url')
    settings.clientId = input.clientId
    settings.clientAuth = input.clientAuth
    settings.scope = input.scope
  }
  settings.username = input.username
  if (input.gitHosts?.length) settings.gitHosts = [...new Set(input.gitHosts.map(gitHost))]
  if (allowHttp) settings.allowHttp = true
  return dropUndefined(settings)
}

function path(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined
  if (!value.startsWith('/') || /[\s?#]/.test(value)) {
    throw new UsageError(
      `${flag} "${printable(value)}" is not a path.`,
      `Give a path that starts with "/", such as /auth/token.`,
    )
  }
  return value
}

/** `host` or `host:port`, lower-cased, as git sends it. */
export function gitHost(value: string): string {
  const host = value.trim().toLowerCase()
  let parsed: URL | undefined
  try {
    parsed = new URL(`https://${host}`)
  } catch {
    parsed = undefined
  }
  if (
    !parsed ||
    host.length === 0 ||
    parsed.pathname !== '/' ||
    parsed.username ||
    parsed.search ||
    parsed.hash ||
    host.includes('/')
  ) {
    throw new UsageError(
      `--host "${printable(value)}" is not a host name.`,
      'Give a host, or host:port, such as git.example.com or git.example.com:8443.',
    )
  }
  // git sends the port only when it is not the default, and so does URL.host.
  return parsed.host
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

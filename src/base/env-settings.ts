/** What the config keeps about one env (docs/design.md#commands `env add`). Never a secret. */
export type Protocol = 'api' | 'oauth2'

export const PROTOCOLS: readonly Protocol[] = ['api', 'oauth2']

export interface EnvSettings {
  protocol: Protocol
  /** api: the server's base URL. */
  url?: string
  /** oauth2: the issuer, for discovery. */
  issuer?: string
  clientId?: string
  /** What to ask for; when unset, person flows ask for `defaultScope`. */
  scope?: string
  /** oauth2: `openid offline_access` as far as the server supports them, found by discovery. */
  defaultScope?: string
  clientAuth?: 'basic' | 'post'
  /** api: paths relative to `url` (defaults in `API_PATHS`). */
  tokenPath?: string
  refreshPath?: string
  revokePath?: string
  /** oauth2: endpoints given by hand or found by discovery. */
  tokenUrl?: string
  deviceUrl?: string
  authorizeUrl?: string
  revokeUrl?: string
  /** oauth2: when the endpoints were discovered (ISO 8601); absent when they were given by hand. */
  discoveredAt?: string
  /** The default user name for `login`. */
  username?: string
  /** Extra hosts (host[:port]) the git credential helper answers for, besides the URL's. */
  gitHosts?: string[]
  allowHttp?: boolean
}

export interface Env extends EnvSettings {
  name: string
  /** True when the env was made from TOKENCTL_* variables with no config entry (docs/design.md#credentials-from-variables). */
  fromVariables?: boolean
}

export const API_PATHS = {
  tokenPath: '/auth/token',
  refreshPath: '/auth/token/refresh',
  revokePath: '/auth/token/revoke',
} as const

/** The URL a person recognises the env by. */
export function displayUrl(env: EnvSettings): string | null {
  return env.url ?? env.issuer ?? env.tokenUrl ?? null
}

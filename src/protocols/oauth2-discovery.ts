import { printable } from '../core/env-name.js'
import type { EnvSettings } from '../core/env-settings.js'
import { ServerError, UsageError } from '../core/errors.js'
import { checkServerUrl } from '../core/url-policy.js'
import { getJson, type HttpOptions } from '../util/http.js'

/** What discovery finds out about an OAuth 2.0 server, in the shape the env keeps. */
export interface DiscoveredEndpoints {
  tokenUrl: string
  deviceUrl?: string
  authorizeUrl?: string
  revokeUrl?: string
  /** Only when the server lacks client_secret_basic but has client_secret_post (SPEC §2.2). */
  clientAuth?: 'post'
  /** `openid offline_access`, as far as the server lists them: an ID token names the user, offline_access buys a refresh token. */
  defaultScope?: string
}

/**
 * SPEC §2.2: OpenID Connect discovery first, then RFC 8414 with the well-known part
 * inserted before the issuer's path (`https://h/realms/x` → `https://h/.well-known/oauth-authorization-server/realms/x`).
 */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, '')
  return [`${url.origin}${path}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`]
}

export async function discover(issuer: string, http: HttpOptions, allowHttp = false): Promise<DiscoveredEndpoints> {
  const tried: string[] = []
  for (const url of discoveryUrls(issuer)) {
    let document: unknown
    try {
      const response = await getJson(url, http)
      document = response.status === 200 ? response.json : undefined
      tried.push(`${url} (${document === undefined ? (response.status === 200 ? 'not JSON' : `HTTP ${response.status}`) : 'ok'})`)
    } catch (error) {
      // A document that cannot be had falls through to the next URL, whatever the reason.
      tried.push(`${url} (${error instanceof ServerError ? 'unreachable' : 'failed'})`)
      continue
    }
    if (isObject(document)) return endpointsOf(document, issuer, url, allowHttp)
  }
  throw new ServerError(`No OAuth 2.0 discovery document was found for ${issuer}. Tried: ${tried.join('; ')}.`, 'Check the issuer URL, or give the endpoints by hand: --token-url URL (and --device-url, --authorize-url, --revoke-url).')
}

function endpointsOf(document: Record<string, unknown>, issuer: string, from: string, allowHttp: boolean): DiscoveredEndpoints {
  const named = typeof document.issuer === 'string' ? document.issuer : ''
  if (named.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new UsageError(
      `The discovery document at ${from} names the issuer "${printable(named, 200)}", not ${issuer}; nothing was saved.`,
      named ? `If that server is the one you mean, pass --issuer ${printable(named, 200)}.` : 'Check the issuer URL.',
    )
  }
  // An https issuer never hands us to plain http, even with --allow-http.
  const httpOk = allowHttp && new URL(issuer).protocol === 'http:'
  const endpoint = (field: string): string | undefined => {
    const value = document[field]
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value !== 'string') throw new ServerError(`The discovery document at ${from} has a ${field} that is not a URL.`, 'Report this to whoever runs the server, or give the endpoints by hand.')
    return checkServerUrl(value, `The discovered ${field}`, httpOk)
  }
  const tokenUrl = endpoint('token_endpoint')
  if (!tokenUrl) throw new ServerError(`The discovery document at ${from} has no token_endpoint.`, 'Give it by hand: --token-url URL.')
  const found: DiscoveredEndpoints = { tokenUrl }
  const deviceUrl = endpoint('device_authorization_endpoint')
  const authorizeUrl = endpoint('authorization_endpoint')
  const revokeUrl = endpoint('revocation_endpoint')
  if (deviceUrl) found.deviceUrl = deviceUrl
  if (authorizeUrl) found.authorizeUrl = authorizeUrl
  if (revokeUrl) found.revokeUrl = revokeUrl

  const methods = strings(document.token_endpoint_auth_methods_supported)
  if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) found.clientAuth = 'post'
  const scopes = strings(document.scopes_supported)
  if (scopes) {
    const wanted = ['openid', 'offline_access'].filter((scope) => scopes.includes(scope))
    if (wanted.length > 0) found.defaultScope = wanted.join(' ')
  }
  return found
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `env add`: an oauth2 env with an issuer and no endpoints by hand gets them by discovery, kept with the time. */
export async function completeSettings(settings: EnvSettings, http: HttpOptions, now = new Date()): Promise<EnvSettings> {
  if (settings.protocol !== 'oauth2' || !settings.issuer || settings.tokenUrl) return settings
  const found = await discover(settings.issuer, http, settings.allowHttp)
  const { clientAuth, ...endpoints } = found
  // Endpoints given by hand beside --issuer win over discovered ones (GitLab's device endpoint, say).
  const byHand = Object.fromEntries(Object.entries(settings).filter(([key, value]) => key.endsWith('Url') && value !== undefined))
  return { ...settings, ...endpoints, ...byHand, clientAuth: settings.clientAuth ?? clientAuth, discoveredAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z') }
}

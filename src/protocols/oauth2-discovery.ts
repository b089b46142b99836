import { printable } from '../base/env-name.js'
import type { EnvSettings } from '../base/env-settings.js'
import { ServerError, UsageError } from '../base/errors.js'
import { checkServerUrl } from '../base/url-policy.js'
import { getJson, type HttpOptions, UnreachableError } from './http.js'
import { isObject } from '../util/is-object.js'

/** A discovery document that would send tokens in clear: said as it is, even where other discovery failures are passed over. */
export class PlainHttpEndpointError extends ServerError {}

/** What discovery finds out about an OAuth 2.0 server, in the shape the env keeps. */
export interface DiscoveredEndpoints {
  tokenUrl: string
  deviceUrl?: string
  authorizeUrl?: string
  revokeUrl?: string
  /** Only when the server lacks client_secret_basic but has client_secret_post (docs/design.md#oauth-20-and-openid-connect). */
  clientAuth?: 'post'
  /** `openid offline_access`, as far as the server lists them: an ID token names the user, offline_access buys a refresh token. */
  defaultScope?: string
}

/**
 * docs/design.md#oauth-20-and-openid-connect: OpenID Connect discovery first, then RFC 8414 with the well-known part
 * inserted before the issuer's path (`https://h/realms/x` → `https://h/.well-known/oauth-authorization-server/realms/x`).
 */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, '')
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ]
}

export async function discover(issuer: string, http: HttpOptions, allowHttp = false): Promise<DiscoveredEndpoints> {
  const tried: string[] = []
  for (const url of discoveryUrls(issuer)) {
    let document: unknown
    try {
      // The discovery URL is the issuer's own: plain http to it only as the env allows.
      const response = await getJson(url, { ...http, allowHttp })
      document = response.status === 200 ? response.json : undefined
      const what =
        response.status !== 200
          ? `HTTP ${response.status}`
          : document === undefined
            ? 'not JSON'
            : isObject(document)
              ? 'ok'
              : 'JSON that is not an object'
      tried.push(`${url} (${what})`)
    } catch (error) {
      // A document that cannot be had falls through to the next URL, whatever the reason;
      // the reason is told as it is (a document over 1 MiB is not "unreachable").
      // Those messages are made here from the host and fixed words: nothing of the server's.
      const why =
        error instanceof UnreachableError
          ? 'unreachable'
          : error instanceof ServerError
            ? error.message.replace(/\.$/, '')
            : 'failed'
      tried.push(`${url} (${why})`)
      continue
    }
    if (isObject(document)) return endpointsOf(document, issuer, url, allowHttp)
  }
  throw new ServerError(
    `No OAuth 2.0 discovery document was found for ${issuer}. Tried: ${tried.join('; ')}.`,
    'Check the issuer URL, or give the endpoints by hand: --token-url URL (and --device-url, --authorize-url, --revoke-url).',
  )
}

function endpointsOf(
  document: Record<string, unknown>,
  issuer: string,
  from: string,
  allowHttp: boolean,
): DiscoveredEndpoints {
  const named = typeof document.issuer === 'string' ? document.issuer : ''
  if (named.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new UsageError(
      `The discovery document at ${from} names the issuer "${printable(named, 200)}", not ${issuer}; nothing was saved.`,
      named ? `If that server is the one you mean, pass --issuer ${printable(named, 200)}.` : 'Check the issuer URL.',
    )
  }
  // An https issuer never hands us to plain http, even with --allow-http, and not even to a
  // loopback address: a document that could name http://127.0.0.1:PORT would send the
  // refresh token and client secret in clear to whatever local process holds that port.
  const secure = new URL(issuer).protocol === 'https:'
  const httpOk = allowHttp && !secure
  const endpoint = (field: string): string | undefined => {
    const value = document[field]
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value !== 'string')
      throw new ServerError(
        `The discovery document at ${from} has a ${field} that is not a URL.`,
        'Report this to whoever runs the server, or give the endpoints by hand.',
      )
    if (secure && protocolOf(value) === 'http:') {
      throw new PlainHttpEndpointError(
        `The discovery document at ${from} names a plain-http ${field} (${printable(value, 200)}) for an https issuer; tokenctl does not send tokens there, and nothing was saved.`,
        'Report this to whoever runs the server, or give the endpoints by hand: --token-url URL (and --device-url, --authorize-url, --revoke-url).',
      )
    }
    return checkServerUrl(value, `The discovered ${field}`, httpOk)
  }
  const tokenUrl = endpoint('token_endpoint')
  if (!tokenUrl)
    throw new ServerError(
      `The discovery document at ${from} has no token_endpoint.`,
      'Give it by hand: --token-url URL.',
    )
  const found: DiscoveredEndpoints = { tokenUrl }
  const deviceUrl = endpoint('device_authorization_endpoint')
  const authorizeUrl = endpoint('authorization_endpoint')
  const revokeUrl = endpoint('revocation_endpoint')
  if (deviceUrl) found.deviceUrl = deviceUrl
  if (authorizeUrl) found.authorizeUrl = authorizeUrl
  if (revokeUrl) found.revokeUrl = revokeUrl

  const methods = strings(document.token_endpoint_auth_methods_supported)
  if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post'))
    found.clientAuth = 'post'
  const scopes = strings(document.scopes_supported)
  if (scopes) {
    const wanted = ['openid', 'offline_access'].filter((scope) => scopes.includes(scope))
    if (wanted.length > 0) found.defaultScope = wanted.join(' ')
  }
  return found
}

function protocolOf(value: string): string | undefined {
  try {
    return new URL(value).protocol
  } catch {
    return undefined
  }
}

export type EndpointName = 'tokenUrl' | 'deviceUrl' | 'authorizeUrl' | 'revokeUrl'

/** One kept endpoint that a rediscovery moves. */
export interface EndpointMove {
  endpoint: EndpointName
  /** The discovery document's name for it, as messages and the audit log say it. */
  field: string
  from: string
  to: string
}

/** How each endpoint is called in messages, after the discovery document's own field names. */
const ENDPOINT_FIELDS: Record<EndpointName, string> = {
  tokenUrl: 'token_endpoint',
  deviceUrl: 'device_authorization_endpoint',
  authorizeUrl: 'authorization_endpoint',
  revokeUrl: 'revocation_endpoint',
}

/**
 * What a rediscovery would change in the endpoints kept, held to the rule that endpoints
 * stay where the person put them: a new endpoint must be on the issuer's origin or on the
 * origin of the endpoint it replaces. One 404 or refused connection is all it takes to
 * trigger a rediscovery, so a document that names another host (a hijacked or badly
 * edited page, a path the issuer shares with others) would otherwise move the refresh
 * token and the client secret there for good. Throws, before anything is sent, naming
 * the new host and how to accept it on purpose.
 */
export function endpointMoves(
  env: { name: string; issuer: string; clientId: string; saved: boolean },
  kept: Partial<Record<EndpointName, string>>,
  found: DiscoveredEndpoints,
): EndpointMove[] {
  const { issuer } = env
  const issuerOrigin = new URL(issuer).origin
  const moves: EndpointMove[] = []
  for (const endpoint of Object.keys(ENDPOINT_FIELDS) as EndpointName[]) {
    const from = kept[endpoint]
    const to = found[endpoint]
    // A kept endpoint the document lacks stays as it is (it may have been given by hand).
    if (!to || to === from) continue
    const origin = new URL(to).origin
    if (origin !== issuerOrigin && (!from || origin !== new URL(from).origin)) {
      throw new ServerError(
        `The discovery document of ${issuer} now names ${printable(new URL(to).host, 100)} for the ${ENDPOINT_FIELDS[endpoint]}, ` +
          `which is neither the issuer's host nor ${from ? `the one kept (${printable(new URL(from).host, 100)})` : 'a host kept before'}; nothing was sent there.`,
        env.saved
          ? `If that server is really the one to use, add the env again: tokenctl env add ${env.name} --issuer ${issuer} --client-id ${printable(env.clientId, 80)} --force`
          : `If that server is really the one to use, add an env for it: tokenctl env add NAME --issuer ${issuer} --client-id ${printable(env.clientId, 80)}`,
      )
    }
    if (from) moves.push({ endpoint, field: ENDPOINT_FIELDS[endpoint], from, to })
  }
  return moves
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined
}

/** `env add`: an oauth2 env with an issuer and no endpoints by hand gets them by discovery, kept with the time. */
export async function completeSettings(
  settings: EnvSettings,
  http: HttpOptions,
  now = new Date(),
): Promise<EnvSettings> {
  if (settings.protocol !== 'oauth2' || !settings.issuer || settings.tokenUrl) return settings
  const found = await discover(settings.issuer, http, settings.allowHttp)
  const { clientAuth, ...endpoints } = found
  // Endpoints given by hand beside --issuer win over discovered ones (GitLab's device endpoint, say).
  const byHand = Object.fromEntries(
    Object.entries(settings).filter(([key, value]) => key.endsWith('Url') && value !== undefined),
  )
  return {
    ...settings,
    ...endpoints,
    ...byHand,
    clientAuth: settings.clientAuth ?? clientAuth,
    discoveredAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }
}

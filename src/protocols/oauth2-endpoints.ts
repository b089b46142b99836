import type { Env } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import type { ClientAuthentication, ClientAuthMethod } from './oauth2-client-auth.js'
import {
  type DiscoveredEndpoints,
  discover,
  type EndpointMove,
  type EndpointName,
  endpointMoves,
  PlainHttpEndpointError,
} from './oauth2-discovery.js'
import { type HttpOptions, type HttpResponse, postForm, UnreachableError } from './http.js'

export interface EndpointsOptions {
  http: HttpOptions
  clientId: string
  /**
   * Discovery found other endpoints after a kept one stopped answering, and a request to
   * the new one then succeeded: say so, and keep them (the config, for a saved env).
   * Never called for a move that was only tried: a new endpoint is kept once it has
   * proved to be a working one.
   */
  onRediscovered?: (found: DiscoveredEndpoints, moves: EndpointMove[]) => Promise<void>
}

/**
 * The provider's endpoints for one run, and the POST to them. They start as the env keeps
 * them (or as discovery finds them, for an env with an issuer only), and move when a
 * discovered endpoint is gone and discovery, run again, names another.
 */
export class ProviderEndpoints {
  urls: Partial<Record<EndpointName, string>>
  clientAuth: ClientAuthMethod
  /** The scope a person's login asks for when the env names none: what the discovery document offers. */
  defaultScope: string | undefined
  /** The secret fields of the last request: a server that quotes them back must not get them printed (docs/design.md#secrets-never-leak). */
  carried: Array<string | undefined> = []
  /** Endpoints a rediscovery moved to for this run, not yet kept: kept once a request there succeeds. */
  private unconfirmed: { found: DiscoveredEndpoints; moves: EndpointMove[] } | undefined

  constructor(
    private readonly env: Env,
    private readonly options: EndpointsOptions,
  ) {
    this.urls = {
      tokenUrl: env.tokenUrl,
      deviceUrl: env.deviceUrl,
      authorizeUrl: env.authorizeUrl,
      revokeUrl: env.revokeUrl,
    }
    this.clientAuth = env.clientAuth
    this.defaultScope = env.defaultScope
  }

  /** The host named in messages about an endpoint's answers; the token endpoint's stands in for one not known. */
  host(endpoint: 'tokenUrl' | 'deviceUrl' | 'revokeUrl'): string {
    const { urls } = this
    const url = endpoint === 'tokenUrl' ? (urls.tokenUrl ?? this.env.issuer) : (urls[endpoint] ?? urls.tokenUrl)
    return new URL(url ?? 'https://server').host
  }

  /** An env made from TOKENCTL_ISSUER has nothing kept: discover for this run. */
  async ready(): Promise<void> {
    const { env } = this
    if (this.urls.tokenUrl) return
    if (!env.issuer) {
      throw new UsageError(
        `The oauth2 env "${env.name}" has neither an issuer nor a token endpoint.`,
        `Add it again: tokenctl env add ${env.name} --issuer URL --client-id ID --force`,
      )
    }
    this.apply(await discover(env.issuer, this.options.http, env.allowHttp))
  }

  /**
   * POST a form to an endpoint. A discovered endpoint that is gone (never reached, or 404)
   * gets discovery run again, and the request is sent once more to the new one: neither
   * failure can have changed anything at the server. The client is authenticated anew for
   * each send, the way the endpoints then in force say.
   */
  async post(
    endpoint: EndpointName,
    form: Record<string, string>,
    authenticate: (method: ClientAuthMethod) => ClientAuthentication,
  ): Promise<HttpResponse> {
    await this.ready()
    this.carried = [form.password, form.refresh_token, form.device_code, form.code, form.code_verifier, form.token]
    const url = this.urls[endpoint]!
    const send = (target: string) => {
      const auth = authenticate(this.clientAuth)
      return postForm(target, { ...form, ...auth.body }, this.options.http, auth.headers)
    }
    let response: HttpResponse
    try {
      response = await send(url)
      if (response.status === 404 && (await this.rediscovered(endpoint, url)))
        response = await send(this.urls[endpoint]!)
    } catch (error) {
      if (!(error instanceof UnreachableError) || !(await this.rediscovered(endpoint, url))) throw error
      response = await send(this.urls[endpoint]!)
    }
    await this.confirm(endpoint, response)
    return response
  }

  // An endpoint the document lacks keeps what the env had: it may have been given by hand (GitLab's device URL).
  private apply(found: DiscoveredEndpoints): void {
    const { urls } = this
    this.urls = {
      tokenUrl: found.tokenUrl,
      deviceUrl: found.deviceUrl ?? urls.deviceUrl,
      authorizeUrl: found.authorizeUrl ?? urls.authorizeUrl,
      revokeUrl: found.revokeUrl ?? urls.revokeUrl,
    }
    this.clientAuth = this.env.clientAuth ?? found.clientAuth
    this.defaultScope = found.defaultScope
  }

  /** A rediscovery may only confirm endpoints on the issuer's origin or the one kept (endpointMoves); other moves stop here, before any request. */
  private async rediscovered(endpoint: EndpointName, old: string): Promise<boolean> {
    const { env } = this
    if (!env.issuer || !(env.discoveredAt || env.fromVariables)) return false
    let found: DiscoveredEndpoints
    try {
      found = await discover(env.issuer, this.options.http, env.allowHttp)
    } catch (error) {
      // A document that cannot be had leaves the first failure to be told; one that names
      // plain http for an https issuer is told itself, since nothing is sent there.
      if (error instanceof PlainHttpEndpointError) throw error
      return false
    }
    if (!found[endpoint] || found[endpoint] === old) return false
    const moves = endpointMoves(
      { name: env.name, issuer: env.issuer, clientId: this.options.clientId, saved: !env.fromVariables },
      this.urls,
      found,
    )
    this.apply(found)
    this.unconfirmed = { found, moves }
    return true
  }

  /** The first answer that is a success from a moved endpoint makes the move one to keep. */
  private async confirm(endpoint: EndpointName, response: HttpResponse): Promise<void> {
    const { unconfirmed } = this
    if (!unconfirmed || response.status < 200 || response.status >= 300) return
    if (!unconfirmed.moves.some((move) => move.endpoint === endpoint)) return
    this.unconfirmed = undefined
    await this.options.onRediscovered?.(unconfirmed.found, unconfirmed.moves)
  }
}

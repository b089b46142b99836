import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'
import { LoginRequiredError, type TokenctlError, UsageError } from '../base/errors.js'
import type { HttpResponse } from './http.js'
import { OAuthClient } from './oauth2-client-auth.js'
import { DEVICE_GRANT, deviceGrantOf, pollForTokens, sleep } from './oauth2-device.js'
import type { EndpointName } from './oauth2-discovery.js'
import { type EndpointsOptions, ProviderEndpoints } from './oauth2-endpoints.js'
import { CHECK_ENDPOINTS, type Exchange, mapOAuthError, type OAuthError, oauthErrorOf } from './oauth2-errors.js'
import { revokeTokens } from './oauth2-revocation.js'
import { tokensOf } from './oauth2-tokens.js'
import { failure } from './responses.js'
import type { AuthProtocol, ClientSecret, Interaction, LoginFlow, LoginRequest, TokenSet } from './types.js'

export interface OAuth2Options extends EndpointsOptions {
  clientSecret?: ClientSecret
}

/** docs/design.md#oauth-20-and-openid-connect: OAuth 2.0 / OpenID Connect. */
export function oauth2Protocol(env: Env, options: OAuth2Options): AuthProtocol {
  return new OAuth2Protocol(env, options)
}

/**
 * The flows, put together from their parts: the client and its secret (oauth2-client-auth),
 * the endpoints and their rediscovery (oauth2-endpoints), the device flow's polling
 * (oauth2-device), the browser's half of the code flow (oauth2-browser), revocation
 * (oauth2-revocation), and what the provider's answers mean (oauth2-tokens, oauth2-errors).
 */
class OAuth2Protocol implements AuthProtocol {
  private readonly client: OAuthClient
  private readonly endpoints: ProviderEndpoints

  constructor(
    private readonly env: Env,
    options: OAuth2Options,
  ) {
    const { clientSecret, ...endpoints } = options
    this.client = new OAuthClient(options.clientId, clientSecret)
    this.endpoints = new ProviderEndpoints(env, endpoints)
  }

  async defaultFlow(): Promise<LoginFlow> {
    await this.endpoints.ready()
    return this.endpoints.urls.deviceUrl ? 'device' : 'password'
  }

  async login(request: LoginRequest): Promise<TokenSet> {
    const { interaction } = request
    switch (request.flow) {
      case 'password': {
        const { username, password } = request.credentials ?? { username: '', password: '' }
        const scope = this.personScope()
        return this.exchange(
          'password',
          { grant_type: 'password', username, password, ...(scope ? { scope } : {}) },
          interaction,
        )
      }
      case 'client-credentials':
        return this.clientCredentials(interaction)
      case 'device':
        return this.deviceLogin(interaction ?? {})
      case 'browser':
        return this.browserLogin(interaction ?? {})
    }
  }

  async refresh(refreshToken: string): Promise<TokenSet> {
    // No scope: the grant keeps the scope it was given (RFC 6749 §6).
    return this.exchange('refresh', { grant_type: 'refresh_token', refresh_token: refreshToken })
  }

  async revoke(tokens: { refreshToken?: string; accessToken?: string }): Promise<'revoked' | 'unsupported'> {
    await this.endpoints.ready()
    if (!this.endpoints.urls.revokeUrl) return 'unsupported'
    // The host that failed is the revocation endpoint's, which need not be the token endpoint's.
    const at = () => this.endpoints.host('revokeUrl')
    await revokeTokens(tokens, {
      post: (form) => this.post('revokeUrl', form),
      // The token refused is among what was sent (this.sent()), so redacted with it.
      refused: (response, error) =>
        error ? this.refusal(error, 'refresh', at) : failure(response, at(), this.sent(), CHECK_ENDPOINTS),
    })
    return 'revoked'
  }

  typedClientSecret(): string | undefined {
    return this.client.typed
  }

  private async deviceLogin(interaction: Interaction): Promise<TokenSet> {
    const { env, endpoints } = this
    await endpoints.ready()
    if (!endpoints.urls.deviceUrl) {
      throw new UsageError(
        `The server of "${env.name}" has no device authorization endpoint.`,
        `Use --flow browser or --flow password, or add the env again with --device-url URL.`,
      )
    }
    const scope = this.personScope()
    const at = () => endpoints.host('deviceUrl')
    const response = await this.request('deviceUrl', scope ? { scope } : {}, interaction, (error) =>
      this.refusal(error, 'device', at),
    )
    const grant = deviceGrantOf(response, Date.now(), { host: at(), sent: this.sent() })
    interaction.showDeviceCode?.(grant.shown)
    return pollForTokens(grant, {
      poll: async () => {
        const answer = await this.post('tokenUrl', { grant_type: DEVICE_GRANT, device_code: grant.deviceCode })
        const error = oauthErrorOf(answer)
        return error ? { error } : { tokens: this.tokens(answer, 'device') }
      },
      refused: (error) => this.refusal(error, 'device'),
      sleep: (ms) => sleep(ms, interaction.signal),
      now: () => Date.now(),
    })
  }

  private async browserLogin(interaction: Interaction): Promise<TokenSet> {
    const { env, endpoints } = this
    await endpoints.ready()
    if (!endpoints.urls.authorizeUrl) {
      throw new UsageError(
        `The server of "${env.name}" has no authorization endpoint.`,
        'Use --flow device or --flow password, or add the env again with --authorize-url URL.',
      )
    }
    const { authorizeInBrowser } = await import('./oauth2-browser.js')
    const granted = await authorizeInBrowser({
      authorizeUrl: endpoints.urls.authorizeUrl,
      clientId: this.client.id,
      scope: this.personScope(),
      envName: env.name,
      interaction,
      mapError: (code, description) => this.refusal({ code, description }, 'code'),
    })
    const form = {
      grant_type: 'authorization_code',
      code: granted.code,
      redirect_uri: granted.redirectUri,
      code_verifier: granted.codeVerifier,
    }
    return this.exchange('code', form, interaction)
  }

  private async clientCredentials(interaction?: Interaction): Promise<TokenSet> {
    const { env, client } = this
    if (!client.secret && !(await client.askForSecret(interaction))) {
      throw new LoginRequiredError(
        `The client-credentials flow of "${env.name}" needs the secret of client "${printable(client.id, 80)}".`,
        `Set TOKENCTL_CLIENT_SECRET (or TOKENCTL_${env.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLIENT_SECRET), or run on a terminal: tokenctl login -e ${env.name} --flow client-credentials`,
      )
    }
    return this.exchange(
      'client-credentials',
      { grant_type: 'client_credentials', ...(env.scope ? { scope: env.scope } : {}) },
      interaction,
    )
  }

  /** One token request, and the tokens it bought. */
  private async exchange(kind: Exchange, form: Record<string, string>, interaction?: Interaction): Promise<TokenSet> {
    const response = await this.request('tokenUrl', form, interaction, (error) => this.refusal(error, kind))
    return this.tokens(response, kind)
  }

  /** One request that the provider did not refuse; an `invalid_client` a person can fix is asked about once. */
  private async request(
    endpoint: EndpointName,
    form: Record<string, string>,
    interaction: Interaction | undefined,
    refused: (error: OAuthError) => TokenctlError,
  ): Promise<HttpResponse> {
    for (let asked = false; ; asked = true) {
      const response = await this.post(endpoint, form)
      const error = oauthErrorOf(response)
      if (!error) return response
      if (error.code === 'invalid_client' && !asked && (await this.client.askForSecret(interaction))) continue
      throw refused(error)
    }
  }

  private post(endpoint: EndpointName, form: Record<string, string>): Promise<HttpResponse> {
    return this.endpoints.post(endpoint, form, (method) => this.client.authentication(method))
  }

  private tokens(response: HttpResponse, exchange: Exchange): TokenSet {
    return tokensOf(response, exchange, {
      host: this.endpoints.host('tokenUrl'),
      clientId: this.client.id,
      sent: this.sent(),
    })
  }

  /** The provider's error answer as our typed error; the host is the token endpoint's unless `at` names another. */
  private refusal(error: OAuthError, exchange: Exchange, at = () => this.endpoints.host('tokenUrl')): TokenctlError {
    const { env, client } = this
    return mapOAuthError(error, exchange, {
      envName: env.name,
      clientId: client.id,
      hasSecret: Boolean(client.secret),
      scope: exchange === 'client-credentials' ? env.scope : this.personScope(),
      host: at,
      sent: this.sent(),
    })
  }

  /** Everything secret the last request carried, the client secret included. */
  private sent(): Array<string | undefined> {
    return [this.client.secret?.value, ...this.endpoints.carried]
  }

  /** A person's login asks for the env's scope, else what discovery offered. */
  private personScope(): string | undefined {
    return this.env.scope ?? this.endpoints.defaultScope
  }
}

/**
 * Self-test of the oidc-provider test server (test/support/oidc-server.ts), driven with
 * plain fetch the way an OAuth client would, so tokenctl's own tests can rely on it.
 */
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { Socket } from 'node:net'

import { listenOnLoopback } from '../support/listen.js'
import {
  API_RESOURCE,
  CLI_CLIENT_ID,
  DEVICE_CODE_GRANT,
  PASSWORD_CLIENT_ID,
  POST_CLIENT_ID,
  POST_CLIENT_SECRET,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  startOidcServer,
} from '../support/oidc-server.js'
import type { OidcServer, OidcServerOptions } from '../support/oidc-server.js'

let server: OidcServer
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await server?.close()
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function start(options: OidcServerOptions = {}): Promise<OidcServer> {
  server = await startOidcServer(options)
  return server
}

interface Reply {
  status: number
  body: Record<string, unknown>
  text: string
  contentType: string | null
}

async function parse(res: Response): Promise<Reply> {
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    // not JSON: callers look at `text`
  }
  return { status: res.status, body, text, contentType: res.headers.get('content-type') }
}

/** POST an application/x-www-form-urlencoded body, as RFC 6749 clients do. */
async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return parse(await fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields) }))
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` }
}

function jwtClaims(token: string): Record<string, unknown> {
  const [, payload = ''] = token.split('.')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}

const str = (value: unknown): string => {
  expect(typeof value).toBe('string')
  return value as string
}

async function passwordLogin(fields: Record<string, string> = {}): Promise<Reply> {
  return postForm(server.endpoints.token, {
    grant_type: 'password',
    client_id: PASSWORD_CLIENT_ID,
    username: 'alice',
    password: 'wonderland',
    scope: 'openid offline_access',
    ...fields,
  })
}

/** A loopback "client" listening for the redirect, like tokenctl's browser flow. */
async function startCallbackServer(): Promise<{ redirectUri: string; hits: string[] }> {
  const hits: string[] = []
  const sockets = new Set<Socket>()
  const callback = http.createServer((req, res) => {
    hits.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('login complete')
  })
  const { url } = await listenOnLoopback(callback, sockets)
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        callback.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  )
  return { redirectUri: `${url}/callback`, hits }
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeUrl(
  redirectUri: string,
  challenge: string | undefined,
  state: string,
  scope = 'openid offline_access',
): string {
  const url = new URL(server.endpoints.authorization)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLI_CLIENT_ID,
    redirect_uri: redirectUri,
    scope,
    state,
    ...(challenge === undefined ? {} : { code_challenge: challenge, code_challenge_method: 'S256' }),
  }).toString()
  return url.href
}

async function deviceAuthorization(scope = 'openid offline_access'): Promise<Record<string, unknown>> {
  const res = await postForm(server.endpoints.deviceAuthorization, { client_id: CLI_CLIENT_ID, scope })
  expect(res.status).toBe(200)
  return res.body
}

async function pollDevice(deviceCode: string): Promise<Reply> {
  return postForm(server.endpoints.token, {
    grant_type: DEVICE_CODE_GRANT,
    device_code: deviceCode,
    client_id: CLI_CLIENT_ID,
  })
}

describe('discovery', () => {
  test('ok: OpenID and RFC 8414 metadata name the issuer and every endpoint', async () => {
    await start()
    const oidc = await parse(await fetch(server.endpoints.discovery))
    expect(oidc.status).toBe(200)
    expect(oidc.body).toMatchObject({
      issuer: server.issuer,
      authorization_endpoint: `${server.issuer}/auth`,
      token_endpoint: `${server.issuer}/token`,
      device_authorization_endpoint: `${server.issuer}/device/auth`,
      revocation_endpoint: `${server.issuer}/token/revocation`,
      introspection_endpoint: `${server.issuer}/token/introspection`,
      code_challenge_methods_supported: ['S256'],
    })
    expect(oidc.body.grant_types_supported).toEqual(
      expect.arrayContaining(['password', 'client_credentials', 'refresh_token', DEVICE_CODE_GRANT]),
    )
    expect(oidc.body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']),
    )
    const oauth = await parse(await fetch(server.endpoints.oauthDiscovery))
    expect(oauth.status).toBe(200)
    expect(oauth.body.issuer).toBe(server.issuer)
  })

  test('issuerPath: URLs stay under the path and RFC 8414 inserts .well-known before it', async () => {
    await start({ issuerPath: '/realms/test' })
    expect(server.issuer).toBe(`${server.origin}/realms/test`)
    expect(server.endpoints.oauthDiscovery).toBe(`${server.origin}/.well-known/oauth-authorization-server/realms/test`)
    for (const url of [server.endpoints.discovery, server.endpoints.oauthDiscovery]) {
      const res = await parse(await fetch(url))
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ issuer: server.issuer, token_endpoint: `${server.issuer}/token` })
    }
    // Outside the issuer path there is nothing, as behind a reverse proxy.
    expect((await fetch(`${server.origin}/.well-known/openid-configuration`)).status).toBe(404)
    const token = await postForm(
      server.endpoints.token,
      { grant_type: 'client_credentials' },
      basic(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
    )
    expect(token.status).toBe(200)
    expect(server.requests[0]?.path).toBe('/realms/test/token')
  })

  test('missing-oidc: openid-configuration is 404, RFC 8414 still answers', async () => {
    await start({ discovery: 'missing-oidc', issuerPath: '/tenant' })
    expect((await fetch(server.endpoints.discovery)).status).toBe(404)
    const oauth = await parse(await fetch(server.endpoints.oauthDiscovery))
    expect(oauth.status).toBe(200)
    expect(oauth.body).toMatchObject({ issuer: server.issuer, token_endpoint: `${server.issuer}/token` })
  })

  test('not-json: openid-configuration is an HTML page, RFC 8414 still answers', async () => {
    await start({ discovery: 'not-json' })
    const oidc = await parse(await fetch(server.endpoints.discovery))
    expect(oidc.status).toBe(200)
    expect(oidc.contentType).toMatch(/^text\/html/)
    expect(() => JSON.parse(oidc.text)).toThrow()
    expect((await parse(await fetch(server.endpoints.oauthDiscovery))).body.issuer).toBe(server.issuer)
  })

  test('missing-all: every discovery URL is 404; setDiscovery switches modes live', async () => {
    await start({ discovery: 'missing-all' })
    expect((await fetch(server.endpoints.discovery)).status).toBe(404)
    expect((await fetch(server.endpoints.oauthDiscovery)).status).toBe(404)
    server.setDiscovery('ok')
    expect((await fetch(server.endpoints.discovery)).status).toBe(200)
  })

  test('wrong-issuer: the metadata names another issuer', async () => {
    await start({ discovery: 'wrong-issuer' })
    for (const url of [server.endpoints.discovery, server.endpoints.oauthDiscovery]) {
      const res = await parse(await fetch(url))
      expect(res.status).toBe(200)
      expect(res.body.issuer).toBe(`${server.origin}/someone-else`)
      expect(res.body.token_endpoint).toBe(`${server.issuer}/token`)
    }
  })
})

describe('client credentials', () => {
  test('Basic auth gets an access token and no refresh token; a wrong secret is invalid_client', async () => {
    await start({ accessTokenTtl: 120 })
    const ok = await postForm(
      server.endpoints.token,
      { grant_type: 'client_credentials', scope: 'api:read' },
      basic(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
    )
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'api:read' })
    expect(ok.body.refresh_token).toBeUndefined()
    expect(await server.introspect(str(ok.body.access_token))).toMatchObject({
      active: true,
      client_id: SERVICE_CLIENT_ID,
      scope: 'api:read',
    })

    const bad = await postForm(
      server.endpoints.token,
      { grant_type: 'client_credentials' },
      basic(SERVICE_CLIENT_ID, 'wrong'),
    )
    expect(bad.status).toBe(401)
    expect(bad.body.error).toBe('invalid_client')

    const scope = await postForm(
      server.endpoints.token,
      { grant_type: 'client_credentials', scope: 'api:write' },
      basic(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
    )
    expect(scope.status).toBe(400)
    expect(scope.body.error).toBe('invalid_scope')

    expect(server.count('client_credentials')).toBe(3)
    expect(server.requests[0]).toMatchObject({
      endpoint: 'token',
      grantType: 'client_credentials',
      clientAuth: 'basic',
      body: { scope: 'api:read' },
      status: 200,
    })
    expect(server.requests[0]?.headers.authorization).toMatch(/^Basic /)
  })
})

describe('password grant', () => {
  test('client_secret_post gets access, refresh and ID tokens; a wrong password is invalid_grant', async () => {
    await start()
    const res = await postForm(server.endpoints.token, {
      grant_type: 'password',
      username: 'alice',
      password: 'wonderland',
      scope: 'openid api:read',
      client_id: POST_CLIENT_ID,
      client_secret: POST_CLIENT_SECRET,
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 1800, scope: 'openid api:read' })
    expect(str(res.body.refresh_token).length).toBeGreaterThan(20)
    expect(jwtClaims(str(res.body.id_token))).toMatchObject({
      iss: server.issuer,
      aud: POST_CLIENT_ID,
      sub: 'alice',
      preferred_username: 'alice',
      email: 'alice@example.test',
    })
    expect(await server.introspect(str(res.body.access_token))).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: POST_CLIENT_ID,
    })
    expect(server.requests[0]).toMatchObject({
      grantType: 'password',
      clientAuth: 'post',
      body: { username: 'alice', client_id: POST_CLIENT_ID },
    })

    const wrong = await postForm(server.endpoints.token, {
      grant_type: 'password',
      username: 'alice',
      password: 'nope',
      client_id: POST_CLIENT_ID,
      client_secret: POST_CLIENT_SECRET,
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toBe('invalid_grant')

    // The client is registered for client_secret_post only.
    const viaBasic = await postForm(
      server.endpoints.token,
      { grant_type: 'password', username: 'alice', password: 'wonderland' },
      basic(POST_CLIENT_ID, POST_CLIENT_SECRET),
    )
    expect(viaBasic.status).toBe(401)
    expect(viaBasic.body.error).toBe('invalid_client')
    expect(server.requests.at(-1)).toMatchObject({
      clientAuth: 'basic',
      status: 401,
      body: { grant_type: 'password', username: 'alice' },
    })
  })

  test('a public client logs in with client_id alone; no openid scope, no ID token', async () => {
    await start({ users: { bob: 'builder' } })
    const res = await passwordLogin({ username: 'bob', password: 'builder', scope: 'api:read' })
    expect(res.status).toBe(200)
    expect(res.body.id_token).toBeUndefined()
    expect(typeof res.body.refresh_token).toBe('string')
    expect(server.requests[0]?.clientAuth).toBe('none')
    expect((await passwordLogin()).body.error).toBe('invalid_grant')
  })
})

describe('refresh tokens', () => {
  test('rotate on every use; replaying a used one revokes the whole grant', async () => {
    await start()
    const login = await passwordLogin()
    const rt1 = str(login.body.refresh_token)

    const first = await postForm(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: rt1,
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(first.status).toBe(200)
    const rt2 = str(first.body.refresh_token)
    expect(rt2).not.toBe(rt1)
    expect(first.body.scope).toBe('openid offline_access')
    expect(jwtClaims(str(first.body.id_token)).preferred_username).toBe('alice')
    expect((await server.introspect(rt1)).active).toBe(false)
    expect(await server.introspect(rt2, 'refresh_token')).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(server.requests[1]?.body).not.toHaveProperty('scope')

    const replay = await postForm(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: rt1,
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(replay.status).toBe(400)
    expect(replay.body.error).toBe('invalid_grant')
    expect((await server.introspect(rt2)).active).toBe(false)
    expect((await server.introspect(str(first.body.access_token))).active).toBe(false)
    const afterReplay = await postForm(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: rt2,
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(afterReplay.body.error).toBe('invalid_grant')
    expect(server.count('refresh_token')).toBe(3)
  })

  test('rotateRefreshTokens: false keeps the refresh token', async () => {
    await start({ rotateRefreshTokens: false })
    const rt = str((await passwordLogin()).body.refresh_token)
    const again = await postForm(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: rt,
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(again.status).toBe(200)
    expect(again.body.refresh_token).toBe(rt)
    expect((await server.introspect(rt)).active).toBe(true)
  })
})

describe('device flow', () => {
  test('interval, authorization_pending, approveDevice, then tokens once', async () => {
    await start({ deviceCodeTtl: 300 })
    const auth = await deviceAuthorization()
    expect(auth).toMatchObject({ interval: 1, expires_in: 300, verification_uri: `${server.issuer}/device` })
    expect(str(auth.verification_uri_complete)).toContain(encodeURIComponent(str(auth.user_code)))

    const pending = await pollDevice(str(auth.device_code))
    expect(pending.status).toBe(400)
    expect(pending.body.error).toBe('authorization_pending')

    await server.approveDevice(str(auth.user_code))
    const tokens = await pollDevice(str(auth.device_code))
    expect(tokens.status).toBe(200)
    expect(typeof tokens.body.access_token).toBe('string')
    expect(typeof tokens.body.refresh_token).toBe('string')
    expect(jwtClaims(str(tokens.body.id_token))).toMatchObject({
      sub: 'alice',
      preferred_username: 'alice',
      aud: CLI_CLIENT_ID,
    })
    expect((await pollDevice(str(auth.device_code))).body.error).toBe('invalid_grant')

    expect(server.count(DEVICE_CODE_GRANT)).toBe(3)
    expect(server.requests[0]).toMatchObject({
      endpoint: 'device_authorization',
      grantType: undefined,
      clientAuth: 'none',
    })
  })

  test('approveDevice takes another account; user codes match however they are typed', async () => {
    await start()
    const auth = await deviceAuthorization('openid')
    await server.approveDevice(str(auth.user_code).toLowerCase().replace('-', ' '), 'carol')
    const tokens = await pollDevice(str(auth.device_code))
    expect(jwtClaims(str(tokens.body.id_token)).sub).toBe('carol')
    await expect(server.approveDevice(str(auth.user_code))).rejects.toThrow(/no pending|already/)
  })

  test('denyDevice gives access_denied', async () => {
    await start()
    const auth = await deviceAuthorization()
    await server.denyDevice(str(auth.user_code))
    const denied = await pollDevice(str(auth.device_code))
    expect(denied.status).toBe(400)
    expect(denied.body.error).toBe('access_denied')
  })

  test('slowDownOnce answers the first poll with slow_down and logs poll times', async () => {
    await start({ slowDownOnce: true, deviceInterval: 2 })
    const auth = await deviceAuthorization()
    expect(auth.interval).toBe(2)
    await server.approveDevice(str(auth.user_code))
    const first = await pollDevice(str(auth.device_code))
    expect(first.status).toBe(400)
    expect(first.body.error).toBe('slow_down')
    const second = await pollDevice(str(auth.device_code))
    expect(second.status).toBe(200)
    const polls = server.requests.filter((r) => r.grantType === DEVICE_CODE_GRANT)
    expect(polls.map((r) => r.status)).toEqual([400, 200])
    expect(polls[1]!.at).toBeGreaterThanOrEqual(polls[0]!.at)
  })

  test('an expired device code gives expired_token', async () => {
    await start({ deviceCodeTtl: 1 })
    const auth = await deviceAuthorization()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const expired = await pollDevice(str(auth.device_code))
    expect(expired.status).toBe(400)
    expect(expired.body.error).toBe('expired_token')
  })
})

describe('authorization code + PKCE', () => {
  test('browse signs in at any loopback port; the code needs the right verifier', async () => {
    await start()
    const { redirectUri, hits } = await startCallbackServer()
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const { verifier, challenge } = pkcePair()

    const result = await server.browse(authorizeUrl(redirectUri, challenge, 'state-123'))
    expect(result).toMatchObject({ status: 200, body: 'login complete' })
    expect(hits).toHaveLength(1)
    const callback = new URL(result.callbackUrl)
    expect(callback.origin + callback.pathname).toBe(redirectUri)
    expect(callback.searchParams.get('state')).toBe('state-123')
    expect(callback.searchParams.get('iss')).toBe(server.issuer)
    const code = str(callback.searchParams.get('code'))

    const exchange = (codeVerifier: string) =>
      postForm(server.endpoints.token, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
        client_id: CLI_CLIENT_ID,
      })
    const wrong = await exchange(pkcePair().verifier)
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toBe('invalid_grant')

    const tokens = await exchange(verifier)
    expect(tokens.status).toBe(200)
    expect(typeof tokens.body.refresh_token).toBe('string')
    expect(jwtClaims(str(tokens.body.id_token))).toMatchObject({ sub: 'alice', preferred_username: 'alice' })
    expect(server.requests.at(-1)).toMatchObject({
      grantType: 'authorization_code',
      clientAuth: 'none',
      body: { code_verifier: verifier },
    })
    // Codes are single use.
    expect((await exchange(verifier)).body.error).toBe('invalid_grant')
  })

  test('browseTo stops before the callback; deny and accountId options', async () => {
    await start()
    const { redirectUri, hits } = await startCallbackServer()
    const { challenge } = pkcePair()
    const url = await server.browseTo(authorizeUrl(redirectUri, challenge, 'xyz', 'openid'), { accountId: 'dave' })
    expect(new URL(url).searchParams.get('state')).toBe('xyz')
    expect(hits).toHaveLength(0)

    const denied = new URL(await server.browseTo(authorizeUrl(redirectUri, challenge, 's2'), { deny: true }))
    expect(denied.searchParams.get('error')).toBe('access_denied')
    expect(denied.searchParams.get('state')).toBe('s2')
  })

  test('PKCE is required for the public client, and only loopback redirects are accepted', async () => {
    await start()
    const { redirectUri } = await startCallbackServer()
    const noPkce = new URL(await server.browseTo(authorizeUrl(redirectUri, undefined, 's')))
    expect(noPkce.searchParams.get('error')).toBe('invalid_request')
    await expect(
      server.browseTo(authorizeUrl('http://evil.example/callback', pkcePair().challenge, 's')),
    ).rejects.toThrow(/answered 400/)
  })

  test('works under an issuer path too', async () => {
    await start({ issuerPath: '/realms/test' })
    const { redirectUri } = await startCallbackServer()
    const { verifier, challenge } = pkcePair()
    const code = str(new URL(await server.browseTo(authorizeUrl(redirectUri, challenge, 's'))).searchParams.get('code'))
    const tokens = await postForm(server.endpoints.token, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: CLI_CLIENT_ID,
    })
    expect(tokens.status).toBe(200)
    expect(jwtClaims(str(tokens.body.id_token)).iss).toBe(server.issuer)
  })
})

describe('revocation (RFC 7009)', () => {
  test('revoking either token ends the whole grant (oidc-provider revokes by grant)', async () => {
    await start()
    const login = await passwordLogin()
    const revoked = await postForm(server.endpoints.revocation, {
      token: str(login.body.refresh_token),
      token_type_hint: 'refresh_token',
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(revoked.status).toBe(200)
    expect((await server.introspect(str(login.body.refresh_token))).active).toBe(false)
    expect((await server.introspect(str(login.body.access_token))).active).toBe(false)
    expect(server.requests.at(-1)).toMatchObject({ endpoint: 'revocation', body: { token_type_hint: 'refresh_token' } })

    const second = await passwordLogin()
    await postForm(server.endpoints.revocation, {
      token: str(second.body.access_token),
      token_type_hint: 'access_token',
      client_id: PASSWORD_CLIENT_ID,
    })
    expect((await server.introspect(str(second.body.access_token))).active).toBe(false)
    expect((await server.introspect(str(second.body.refresh_token))).active).toBe(false)

    // RFC 7009 §2.2: an unknown token is not an error.
    expect((await postForm(server.endpoints.revocation, { token: 'nope', client_id: PASSWORD_CLIENT_ID })).status).toBe(
      200,
    )
  })
})

describe('JWT access tokens', () => {
  test('client credentials, password, refresh and device flow issue JWTs for the API resource', async () => {
    await start({ accessTokenFormat: 'jwt', accessTokenTtl: 600 })
    const cc = await postForm(
      server.endpoints.token,
      { grant_type: 'client_credentials', scope: 'api:read' },
      basic(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET),
    )
    expect(cc.status).toBe(200)
    expect(jwtClaims(str(cc.body.access_token))).toMatchObject({
      iss: server.issuer,
      aud: API_RESOURCE,
      client_id: SERVICE_CLIENT_ID,
      scope: 'api:read',
    })

    const login = await passwordLogin({ scope: 'openid offline_access api:read' })
    expect(login.status).toBe(200)
    const claims = jwtClaims(str(login.body.access_token))
    expect(claims).toMatchObject({ sub: 'alice', aud: API_RESOURCE, scope: 'api:read' })
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600)
    expect(jwtClaims(str(login.body.id_token)).preferred_username).toBe('alice')

    const refreshed = await postForm(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: str(login.body.refresh_token),
      client_id: PASSWORD_CLIENT_ID,
    })
    expect(refreshed.status).toBe(200)
    expect(jwtClaims(str(refreshed.body.access_token))).toMatchObject({ sub: 'alice', aud: API_RESOURCE })

    const auth = await deviceAuthorization('openid offline_access api:read')
    await server.approveDevice(str(auth.user_code))
    const device = await pollDevice(str(auth.device_code))
    expect(device.status).toBe(200)
    expect(jwtClaims(str(device.body.access_token))).toMatchObject({
      sub: 'alice',
      aud: API_RESOURCE,
      scope: 'api:read',
    })
  })

  test('browser flow issues a JWT too', async () => {
    await start({ accessTokenFormat: 'jwt' })
    const { redirectUri } = await startCallbackServer()
    const { verifier, challenge } = pkcePair()
    const code = str(
      new URL(
        await server.browseTo(authorizeUrl(redirectUri, challenge, 's', 'openid offline_access api:read')),
      ).searchParams.get('code'),
    )
    const tokens = await postForm(server.endpoints.token, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: CLI_CLIENT_ID,
    })
    expect(tokens.status).toBe(200)
    expect(jwtClaims(str(tokens.body.access_token))).toMatchObject({
      sub: 'alice',
      aud: API_RESOURCE,
      scope: 'api:read',
    })
  })
})

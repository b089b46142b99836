import { startApiServer } from '../support/api-server.js'
import type { ApiServer, ApiServerOptions } from '../support/api-server.js'

/** RFC 6750 b64token (docs/design.md#secrets-never-leak). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

let server: ApiServer
afterEach(async () => {
  await server?.close()
})

async function start(options: ApiServerOptions = {}): Promise<ApiServer> {
  server = await startApiServer(options)
  return server
}

async function post(
  path: string,
  body: unknown,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown; contentType: string | null }> {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // keep the raw text
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') }
}

interface Tokens {
  token: string
  refreshToken: string
  expiresIn?: number
  refreshExpiresIn?: number
}

/** The token fields of a response body, wrapped or not. */
function tokensOf(body: unknown): Tokens {
  const record = body as { data?: Tokens } & Tokens
  return record.data ?? record
}

async function login(username = 'alice', password = 'wonderland'): Promise<Tokens> {
  const res = await post('/auth/token', { username, password })
  expect(res.status).toBe(200)
  return tokensOf(res.body)
}

async function me(token: string): Promise<number> {
  const res = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  await res.text()
  return res.status
}

function jwtClaims(token: string): Record<string, unknown> {
  const [, payload] = token.split('.')
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

describe('api test server', () => {
  describe('login', () => {
    it('answers 200 with a {"data": …} token response by default', async () => {
      await start()
      const res = await post('/auth/token', { username: 'alice', password: 'wonderland' })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        data: {
          token: expect.any(String),
          refreshToken: expect.any(String),
          expiresIn: 1800,
          refreshExpiresIn: 604800,
        },
      })
    })

    it('puts the fields at the top level with wrapInData: false', async () => {
      await start({ wrapInData: false })
      const res = await post('/auth/token', { username: 'alice', password: 'wonderland' })
      expect(res.body).toEqual({
        token: expect.any(String),
        refreshToken: expect.any(String),
        expiresIn: 1800,
        refreshExpiresIn: 604800,
      })
    })

    it('rejects a wrong password with 401 and a JSON error body', async () => {
      await start()
      const res = await post('/auth/token', { username: 'alice', password: 'nope' })
      expect(res.status).toBe(401)
      expect(res.contentType).toMatch(/application\/json/)
      expect(res.body).toEqual({ error: 'invalid_credentials', message: expect.any(String) })
      expect((await post('/auth/token', { username: 'bob', password: 'wonderland' })).status).toBe(401)
    })

    it('accepts configured users', async () => {
      await start({ users: { bob: 'builder' } })
      expect((await post('/auth/token', { username: 'bob', password: 'builder' })).status).toBe(200)
      expect((await post('/auth/token', { username: 'alice', password: 'wonderland' })).status).toBe(401)
    })

    it('refuses a body sent without Content-Type: application/json', async () => {
      await start()
      const res = await post(
        '/auth/token',
        { username: 'alice', password: 'wonderland' },
        { headers: { 'content-type': 'text/plain' } },
      )
      expect(res.status).toBe(415)
    })
  })

  describe('GET /api/me', () => {
    it('answers 200 {"user"} for a valid access token and 401 otherwise', async () => {
      await start()
      const { token } = await login()
      const res = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ user: 'alice' })
      expect(await me('not-a-token')).toBe(401)
      expect((await fetch(`${server.url}/api/me`)).status).toBe(401)
    })
  })

  describe('refresh and rotation', () => {
    it('rotates: a refresh returns new tokens and the old refresh token is then rejected', async () => {
      await start()
      const first = await login()
      const res = await post('/auth/token/refresh', { refreshToken: first.refreshToken })
      expect(res.status).toBe(200)
      const second = tokensOf(res.body)
      expect(second.token).not.toBe(first.token)
      expect(second.refreshToken).not.toBe(first.refreshToken)
      expect(server.isRefreshTokenActive(first.refreshToken)).toBe(false)
      expect(server.isRefreshTokenActive(second.refreshToken)).toBe(true)
      expect(await me(second.token)).toBe(200)

      // Presenting the rotated-away token is reuse: 401 and the whole family is revoked.
      expect((await post('/auth/token/refresh', { refreshToken: first.refreshToken })).status).toBe(401)
      expect(server.isRefreshTokenActive(second.refreshToken)).toBe(false)
      expect((await post('/auth/token/refresh', { refreshToken: second.refreshToken })).status).toBe(401)
      expect(await me(first.token)).toBe(401)
      expect(await me(second.token)).toBe(401)
    })

    it('reuse revokes only the family of that login', async () => {
      await start()
      const a = await login()
      const b = await login()
      await post('/auth/token/refresh', { refreshToken: a.refreshToken })
      await post('/auth/token/refresh', { refreshToken: a.refreshToken })
      expect(await me(a.token)).toBe(401)
      expect(await me(b.token)).toBe(200)
      expect(server.isRefreshTokenActive(b.refreshToken)).toBe(true)
    })

    it('answers 401 for an unknown refresh token', async () => {
      await start()
      expect((await post('/auth/token/refresh', { refreshToken: 'unknown' })).status).toBe(401)
    })

    it('without rotation keeps the refresh token and omits it from the answer', async () => {
      await start({ rotate: false })
      const first = await login()
      const res = await post('/auth/token/refresh', { refreshToken: first.refreshToken })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ data: { token: expect.any(String), expiresIn: 1800 } })
      expect((await post('/auth/token/refresh', { refreshToken: first.refreshToken })).status).toBe(200)
      expect(server.isRefreshTokenActive(first.refreshToken)).toBe(true)
    })
  })

  describe('token formats and lifetimes', () => {
    it('issues HS256 JWTs with sub, iat, exp, jti, in b64token characters', async () => {
      await start({ accessTtl: 60, refreshTtl: 3600 })
      const before = Math.floor(Date.now() / 1000)
      const tokens = await login()
      for (const token of [tokens.token, tokens.refreshToken]) {
        expect(token).toMatch(B64TOKEN)
        expect(token.split('.')).toHaveLength(3)
        const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as unknown
        expect(header).toEqual({ alg: 'HS256', typ: 'JWT' })
      }
      const access = jwtClaims(tokens.token)
      expect(access).toEqual({
        sub: 'alice',
        iat: expect.any(Number),
        exp: expect.any(Number),
        jti: expect.any(String),
        typ: 'access',
      })
      expect(access.iat).toBeGreaterThanOrEqual(before)
      expect(access.exp).toBe((access.iat as number) + 60)
      const refresh = jwtClaims(tokens.refreshToken)
      expect(refresh.exp).toBe((refresh.iat as number) + 3600)
      expect(refresh.jti).not.toBe(access.jti)
      expect(tokens.expiresIn).toBe(60)
      expect(tokens.refreshExpiresIn).toBe(3600)
    })

    it('omits expiresIn and refreshExpiresIn with sendExpiresIn: false, so only the JWT exp tells', async () => {
      await start({ sendExpiresIn: false, accessTtl: 120 })
      const res = await post('/auth/token', { username: 'alice', password: 'wonderland' })
      expect(res.body).toEqual({ data: { token: expect.any(String), refreshToken: expect.any(String) } })
      const claims = jwtClaims(tokensOf(res.body).token)
      expect(claims.exp).toBe((claims.iat as number) + 120)
    })

    it('issues opaque random base64url tokens', async () => {
      await start({ tokenFormat: 'opaque' })
      const tokens = await login()
      for (const token of [tokens.token, tokens.refreshToken]) {
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
        expect(token).toMatch(B64TOKEN)
        expect(token).not.toContain('.')
      }
      expect(await me(tokens.token)).toBe(200)
    })

    it('expires tokens on the server clock (advance)', async () => {
      await start({ accessTtl: 60, refreshTtl: 300 })
      const tokens = await login()
      server.advance(59)
      expect(await me(tokens.token)).toBe(200)
      server.advance(1)
      expect(server.clock).toBe(60)
      expect(await me(tokens.token)).toBe(401)
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(true)
      server.advance(240)
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(false)
      expect((await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).status).toBe(401)
    })

    it('expireAccessTokens kills current access tokens but not the refresh token', async () => {
      await start()
      const tokens = await login()
      server.expireAccessTokens()
      expect(await me(tokens.token)).toBe(401)
      const res = await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })
      expect(res.status).toBe(200)
      expect(await me(tokensOf(res.body).token)).toBe(200)
    })

    it('revokeAll kills every family', async () => {
      await start()
      const a = await login()
      const b = await login()
      server.revokeAll()
      expect(await me(a.token)).toBe(401)
      expect(await me(b.token)).toBe(401)
      expect((await post('/auth/token/refresh', { refreshToken: b.refreshToken })).status).toBe(401)
    })
  })

  describe('revoke', () => {
    it('answers 200 and revokes the family', async () => {
      await start()
      const tokens = await login()
      expect((await post('/auth/token/revoke', { refreshToken: tokens.refreshToken })).status).toBe(200)
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(false)
      expect(await me(tokens.token)).toBe(401)
      expect((await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).status).toBe(401)
    })

    it('answers 404 when revocation is unsupported', async () => {
      await start({ revokeSupported: false })
      const tokens = await login()
      expect((await post('/auth/token/revoke', { refreshToken: tokens.refreshToken })).status).toBe(404)
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(true)
    })

    it('uses configured paths', async () => {
      await start({ loginPath: '/v2/login', refreshPath: '/v2/refresh', revokePath: '/v2/logout' })
      const res = await post('/v2/login', { username: 'alice', password: 'wonderland' })
      expect(res.status).toBe(200)
      const { refreshToken } = tokensOf(res.body)
      expect((await post('/auth/token', { username: 'alice', password: 'wonderland' })).status).toBe(404)
      const refreshed = await post('/v2/refresh', { refreshToken })
      expect(refreshed.status).toBe(200)
      expect((await post('/v2/logout', { refreshToken: tokensOf(refreshed.body).refreshToken })).status).toBe(200)
    })
  })

  describe('failure modes', () => {
    const credentials = { username: 'alice', password: 'wonderland' }

    it('html500: 500 with an HTML body', async () => {
      await start()
      server.failNext('html500')
      const res = await post('/auth/token', credentials)
      expect(res.status).toBe(500)
      expect(res.contentType).toMatch(/^text\/html/)
      expect(String(res.body)).toContain('<html>')
      // Only the next one fails.
      expect((await post('/auth/token', credentials)).status).toBe(200)
    })

    it('malformedJson: 200 application/json with a cut-off body', async () => {
      await start()
      server.failNext('malformedJson')
      const res = await post('/auth/token', credentials)
      expect(res.status).toBe(200)
      expect(res.contentType).toBe('application/json')
      expect(res.body).toBe('{"data": {"tok')
    })

    it('wrongShape: 200 with JSON that is not a token response', async () => {
      await start()
      server.failNext('wrongShape')
      expect(await post('/auth/token', credentials)).toMatchObject({ status: 200, body: { data: { foo: 1 } } })
    })

    it('noToken: 200 with a refreshToken but no token', async () => {
      await start()
      server.failNext('noToken')
      const res = await post('/auth/token', credentials)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ data: { refreshToken: expect.any(String), refreshExpiresIn: 604800 } })
    })

    it('status:<n>: that status with a JSON error', async () => {
      await start()
      server.failNext('status:503', 2)
      expect(await post('/auth/token', credentials)).toMatchObject({ status: 503, body: { error: expect.any(String) } })
      expect((await post('/auth/token', credentials)).status).toBe(503)
      expect((await post('/auth/token', credentials)).status).toBe(200)
    })

    it('hang: never answers, so a client timeout aborts', async () => {
      await start()
      server.failNext('hang')
      const started = Date.now()
      await expect(post('/auth/token', credentials, { signal: AbortSignal.timeout(500) })).rejects.toMatchObject({
        name: 'TimeoutError',
      })
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
      expect(server.count('/auth/token')).toBe(1)
      // close() in afterEach must end the hanging socket rather than wait for it.
    })

    it('drop: destroys the socket, so fetch rejects', async () => {
      await start()
      server.failNext('drop')
      await expect(post('/auth/token', credentials)).rejects.toThrow('fetch failed')
      expect((await post('/auth/token', credentials)).status).toBe(200)
    })

    it('setFailure applies to every matching POST until cleared, and can target one path', async () => {
      await start()
      const tokens = await login()
      server.setFailure('status:502', { path: '/auth/token/refresh' })
      expect((await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).status).toBe(502)
      expect((await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).status).toBe(502)
      expect((await post('/auth/token', credentials)).status).toBe(200)
      expect(await me(tokens.token)).toBe(200) // GETs are never failed
      server.setFailure(undefined)
      expect((await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).status).toBe(200)
    })

    it('afterHandling: the refresh rotates although the answer is lost', async () => {
      await start()
      const tokens = await login()
      server.failNext('drop', 1, { afterHandling: true })
      await expect(post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).rejects.toThrow('fetch failed')
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(false)
    })

    it('a failure before handling leaves the refresh token unused', async () => {
      await start()
      const tokens = await login()
      server.failNext('drop')
      await expect(post('/auth/token/refresh', { refreshToken: tokens.refreshToken })).rejects.toThrow('fetch failed')
      expect(server.isRefreshTokenActive(tokens.refreshToken)).toBe(true)
    })
  })

  describe('request log', () => {
    it('records every request with method, path, parsed body, headers and time', async () => {
      await start()
      const before = Date.now()
      const tokens = await login()
      await me(tokens.token)
      await post('/auth/token/refresh', { refreshToken: tokens.refreshToken })
      await fetch(`${server.url}/auth/token?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'not json',
      })

      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /auth/token',
        'GET /api/me',
        'POST /auth/token/refresh',
        'POST /auth/token',
      ])
      const [loginReq, meReq, refreshReq, rawReq] = server.requests
      expect(loginReq?.body).toEqual({ username: 'alice', password: 'wonderland' })
      expect(loginReq?.headers['content-type']).toBe('application/json')
      expect(loginReq?.at).toBeGreaterThanOrEqual(before)
      expect(meReq?.body).toBe('')
      expect(meReq?.headers.authorization).toBe(`Bearer ${tokens.token}`)
      expect(refreshReq?.body).toEqual({ refreshToken: tokens.refreshToken })
      expect(rawReq?.body).toBe('not json')
      expect(server.count('/auth/token')).toBe(2)
      expect(server.count('/auth/token', 'GET')).toBe(0)
      expect(server.count('/auth/token/refresh')).toBe(1)
    })

    it('logs requests that were then failed', async () => {
      await start()
      server.failNext('html500')
      await post('/auth/token', { username: 'alice', password: 'wonderland' })
      expect(server.requests).toHaveLength(1)
      expect(server.requests[0]?.body).toEqual({ username: 'alice', password: 'wonderland' })
    })
  })
})

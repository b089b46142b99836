/**
 * docs/design.md#oauth-20-and-openid-connect device flow (RFC 8628) end to end: the built CLI as a subprocess against a
 * real OpenID provider (oidc-provider, test/support/oidc-server.ts) with refresh-token
 * rotation, reuse detection, revocation and introspection on. The test plays the person:
 * it reads the user code from the running login's stderr and approves it at the provider.
 */
import { Sandbox } from '../support/cli.js'
import {
  API_RESOURCE,
  CLI_CLIENT_ID,
  DEVICE_CODE_GRANT,
  type OidcServer,
  type OidcServerOptions,
  startOidcServer,
} from '../support/oidc-server.js'
import {
  deviceLogin,
  expireStoredAccessToken,
  FILE_STORE,
  jwtClaims,
  stored,
  storedTokens,
  USER_CODE,
} from '../support/oauth2-e2e.js'

let sandbox: Sandbox
let server: OidcServer | undefined

beforeEach(() => {
  sandbox = new Sandbox()
})

afterEach(async () => {
  await server?.close()
  server = undefined
  sandbox.cleanup()
})

async function serve(options: OidcServerOptions = {}): Promise<OidcServer> {
  server = await startOidcServer(options)
  return server
}

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  sandbox.run(args, { env: { ...FILE_STORE, ...env } })

/** env `corp` (current) with the public native client, endpoints by discovery. */
async function addCorp(oidc: OidcServer): Promise<void> {
  expect(await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID])).toMatchObject({
    code: 0,
    stdout: '',
  })
}

describe('device flow login → token → refresh with rotation → revoke', () => {
  test('every step against the provider, which ends up saying the refresh token is no longer active', async () => {
    const oidc = await serve()
    await addCorp(oidc)

    // Login, approved by the test as the person at the verification page.
    const login = sandbox.start(['login'], { env: FILE_STORE })
    const [, userCode] = await login.waitForStderr(USER_CODE)
    // The complete URL (RFC 8628 §3.3.1) and the code are on stderr while it waits.
    expect(login.stderr).toContain(`${oidc.issuer}/device?user_code=`)
    await oidc.approveDevice(userCode!)
    const loggedIn = await login.done
    expect(loggedIn).toMatchObject({ code: 0, stdout: '' })
    expect(loggedIn.stderr).toMatch(/Logged in to corp as alice/)

    // What the provider saw: the public client sent its id and nothing else to authenticate.
    const [authorization, ...polls] = oidc.requests
    expect(authorization).toMatchObject({ endpoint: 'device_authorization', clientAuth: 'none', status: 200 })
    expect(authorization!.body).toEqual({ client_id: CLI_CLIENT_ID, scope: 'openid offline_access' })
    expect(polls.length).toBeGreaterThanOrEqual(1)
    for (const poll of polls) {
      expect(poll).toMatchObject({ endpoint: 'token', grantType: DEVICE_CODE_GRANT, clientAuth: 'none' })
      expect(poll.body.client_id).toBe(CLI_CLIENT_ID)
      expect(poll.body.client_secret).toBeUndefined()
      expect(poll.headers.authorization).toBeUndefined()
    }
    expect(polls.at(-1)!.status).toBe(200)

    const first = storedTokens(sandbox, 'corp')
    expect(first.user).toBe('alice')
    // status names the user from the ID token: the provider puts the account id in
    // preferred_username (and sub), and alice@example.test in email.
    const status = await run(['status', '--json'])
    expect(status).toMatchObject({ code: 0, stderr: '' })
    const shown = JSON.parse(status.stdout) as Record<string, unknown>
    expect(shown).toEqual({
      env: 'corp',
      loggedIn: true,
      user: 'alice',
      protocol: 'oauth2',
      store: 'file',
      accessExpiresAt: expect.stringMatching(/Z$/),
      refreshExpiresAt: expect.stringMatching(/Z$/),
    })
    expect(Math.abs(Date.parse(shown.accessExpiresAt as string) - first.accessExpiresAt!)).toBeLessThan(1000)
    expect(await oidc.introspect(first.accessToken)).toMatchObject({
      active: true,
      client_id: CLI_CLIENT_ID,
      sub: 'alice',
    })
    expect(await oidc.introspect(first.refreshToken)).toMatchObject({ active: true, client_id: CLI_CLIENT_ID })

    // token: the cached access token, no request.
    const requestsBefore = oidc.requests.length
    expect(await run(['token'])).toMatchObject({ code: 0, stdout: `${first.accessToken}\n`, stderr: '' })
    expect(oidc.requests.length).toBe(requestsBefore)

    // Expiry: the next token call refreshes, with rotation.
    expireStoredAccessToken(sandbox, 'corp')
    const refreshed = await run(['token'])
    expect(refreshed).toMatchObject({ code: 0, stderr: '' })
    expect(oidc.count('refresh_token')).toBe(1)
    const refresh = oidc.requests.find((request) => request.grantType === 'refresh_token')!
    expect(refresh).toMatchObject({ clientAuth: 'none', status: 200 })
    // No scope on refresh (the grant keeps its own), no secret for a public client.
    expect(refresh.body).toEqual({
      grant_type: 'refresh_token',
      refresh_token: first.refreshToken,
      client_id: CLI_CLIENT_ID,
    })

    const second = storedTokens(sandbox, 'corp')
    expect(refreshed.stdout).toBe(`${second.accessToken}\n`)
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.user).toBe('alice')
    expect(await oidc.introspect(second.accessToken)).toMatchObject({ active: true, sub: 'alice' })
    expect(await oidc.introspect(second.refreshToken)).toMatchObject({ active: true })
    // The old one is used up: rotation happened at the provider, not only in our store.
    expect(await oidc.introspect(first.refreshToken)).toEqual({ active: false })

    // revoke: RFC 7009, the refresh token first with its hint, then the access token.
    const revoked = await run(['revoke'])
    expect(revoked).toMatchObject({ code: 0, stdout: '' })
    const revocations = oidc.requests.filter((request) => request.endpoint === 'revocation')
    expect(
      revocations.map((request) => [
        request.body.token,
        request.body.token_type_hint,
        request.body.client_id,
        request.status,
      ]),
    ).toEqual([
      [second.refreshToken, 'refresh_token', CLI_CLIENT_ID, 200],
      [second.accessToken, 'access_token', CLI_CLIENT_ID, 200],
    ])
    expect(await oidc.introspect(second.refreshToken)).toEqual({ active: false })
    expect(await oidc.introspect(second.accessToken)).toEqual({ active: false })
    expect(stored(sandbox, 'corp')).toBeUndefined()
    expect(await run(['token'])).toMatchObject({ code: 3, stdout: '' })
  })
})

describe('device flow: how a login that does not complete ends', () => {
  test('denied at the provider: exit 4, nothing stored', async () => {
    const oidc = await serve()
    await addCorp(oidc)
    const login = sandbox.start(['login', '--flow', 'device'], { env: FILE_STORE })
    const [, userCode] = await login.waitForStderr(USER_CODE)
    await oidc.denyDevice(userCode!)
    const result = await login.done
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expect(result.stderr).toMatch(/denied.*access_denied/)
    expect(oidc.requests.at(-1)).toMatchObject({ grantType: DEVICE_CODE_GRANT, status: 400 })
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('slow_down: the next poll waits 5 s more than the interval (RFC 8628 §3.5)', async () => {
    const oidc = await serve({ slowDownOnce: true, deviceInterval: 1 })
    await addCorp(oidc)
    const login = sandbox.start(['login', '--flow', 'device'], { env: FILE_STORE })
    const [, userCode] = await login.waitForStderr(USER_CODE)
    await oidc.approveDevice(userCode!)
    expect(await login.done).toMatchObject({ code: 0 })

    const polls = oidc.requests.filter((request) => request.grantType === DEVICE_CODE_GRANT)
    expect(polls.map((poll) => poll.status)).toEqual([400, 200])
    const authorizedAt = oidc.requests.find((request) => request.endpoint === 'device_authorization')!.at
    expect(polls[0]!.at - authorizedAt).toBeGreaterThanOrEqual(1000)
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(6000)
    storedTokens(sandbox, 'corp')
  })

  test('the device code expires before anyone approves: exit 3, saying to run login again', async () => {
    const oidc = await serve({ deviceCodeTtl: 2 })
    await addCorp(oidc)
    const result = await run(['login', '--flow', 'device'])
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/expired/)
    expect(result.stderr).toMatch(/tokenctl login -e corp/)
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('Ctrl-C while waiting: exit 130 at once, nothing stored', async () => {
    const oidc = await serve()
    await addCorp(oidc)
    const login = sandbox.start(['login', '--flow', 'device'], { env: FILE_STORE })
    await login.waitForStderr(USER_CODE)
    login.child.kill('SIGINT')
    const result = await login.done
    expect(result).toMatchObject({ code: 130, stdout: '' })
    expect(result.stderr).toMatch(/stopped; nothing was stored/)
    // At once: not after the code's 10 minutes (generous for a loaded machine).
    expect(result.ms).toBeLessThan(20_000)
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('--no-input or CI=true: exit 3 before any request reaches the provider', async () => {
    const oidc = await serve()
    await addCorp(oidc)
    const cases: Array<[string[], Record<string, string>]> = [
      [['login', '--flow', 'device', '--no-input'], {}],
      [['login', '--flow', 'device'], { CI: 'true' }],
      [['login', '--no-input'], {}],
      [['login', '--flow', 'browser', '--no-input'], {}],
    ]
    for (const [args, env] of cases) {
      const result = await run(args, env)
      expect(result).toMatchObject({ code: 3, stdout: '' })
      expect(result.stderr).toMatch(/--no-input or CI=true/)
      expect(result.stderr).toMatch(/TOKENCTL_CLIENT_SECRET|TOKENCTL_USERNAME/)
      expect(oidc.requests).toEqual([])
    }
  })
})

describe('JWT access tokens (a provider with resource indicators)', () => {
  test('device login stores the JWT with its own expiry, and a refresh keeps the user', async () => {
    const oidc = await serve({ accessTokenFormat: 'jwt' })
    await addCorp(oidc)
    expect(await deviceLogin(sandbox, oidc, [])).toMatchObject({ code: 0 })
    const first = storedTokens(sandbox, 'corp')
    const claims = jwtClaims(first.accessToken)
    expect(claims).toMatchObject({ sub: 'alice', client_id: CLI_CLIENT_ID, aud: API_RESOURCE, iss: oidc.issuer })
    expect(Math.abs(first.accessExpiresAt! - (claims.exp as number) * 1000)).toBeLessThan(2000)
    expireStoredAccessToken(sandbox, 'corp')
    const refreshed = await run(['token'])
    expect(refreshed.code).toBe(0)
    const second = storedTokens(sandbox, 'corp')
    expect(second.user).toBe('alice')
    expect(refreshed.stdout).toBe(`${second.accessToken}\n`)
    expect(jwtClaims(second.accessToken)).toMatchObject({ sub: 'alice', aud: API_RESOURCE })
    expect(await oidc.introspect(second.refreshToken)).toMatchObject({ active: true })
  })
})

describe('a store out of reach (exit 6 before anything else)', () => {
  test.each([['device'], ['browser']])(
    '--flow %s with no keychain and no --store: exit 6 before any request, nobody asked to approve',
    async (flow) => {
      const oidc = await serve()
      await addCorp(oidc)
      // No TOKENCTL_STORE: the sandbox's Secret Service bus does not exist.
      const result = await sandbox.run(['login', '--flow', flow, '--timeout', '5s'], {
        env: { BROWSER: '/bin/true' },
        timeoutMs: 30_000,
      })
      expect(result).toMatchObject({ code: 6, stdout: '' })
      expect(result.stderr).toMatch(/--store file/)
      expect(result.stderr).not.toMatch(USER_CODE)
      expect(result.stderr).not.toContain(oidc.endpoints.authorization)
      expect(oidc.requests).toEqual([])
    },
  )
})

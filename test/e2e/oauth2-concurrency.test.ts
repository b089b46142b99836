/**
 * Concurrency (docs/design.md#where-things-are-kept) against a real OpenID provider with refresh-token rotation and
 * reuse detection: a rotated refresh token sent twice makes the provider revoke the whole
 * grant, so a second refresh by any of the processes would show up loudly here.
 */
import { Sandbox } from '../support/cli.js'
import { deviceLogin, expireStoredAccessToken, FILE_STORE, storedTokens } from '../support/oauth2-e2e.js'
import { CLI_CLIENT_ID, type OidcServer, startOidcServer } from '../support/oidc-server.js'

let sandbox: Sandbox
let oidc: OidcServer

beforeEach(async () => {
  sandbox = new Sandbox()
  oidc = await startOidcServer()
})

afterEach(async () => {
  await oidc.close()
  sandbox.cleanup()
})

test('20 concurrent `token` calls on an expired token: one refresh, no reuse-detection revocation', async () => {
  expect(
    await sandbox.run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID]),
  ).toMatchObject({ code: 0 })
  expect(await deviceLogin(sandbox, oidc, [])).toMatchObject({ code: 0 })
  const login = storedTokens(sandbox, 'corp')
  expireStoredAccessToken(sandbox, 'corp')
  const before = oidc.requests.length

  const results = await Promise.all(
    Array.from({ length: 20 }, () => sandbox.run(['token'], { env: FILE_STORE, timeoutMs: 90_000 })),
  )
  for (const result of results) expect(result).toMatchObject({ code: 0, signal: null })

  expect(oidc.count('refresh_token')).toBe(1)
  expect(oidc.requests.slice(before).map((request) => [request.grantType, request.status])).toEqual([
    ['refresh_token', 200],
  ])
  const printed = new Set(results.map((result) => result.stdout))
  expect(printed.size).toBe(1)

  const after = storedTokens(sandbox, 'corp')
  expect([...printed][0]).toBe(`${after.accessToken}\n`)
  expect(after.refreshToken).not.toBe(login.refreshToken)
  // Had the old token been replayed, the provider would have revoked the grant: the new
  // refresh token and access token would be inactive.
  expect(await oidc.introspect(after.refreshToken)).toMatchObject({ active: true })
  expect(await oidc.introspect(after.accessToken)).toMatchObject({ active: true })
  expect(await oidc.introspect(login.refreshToken)).toEqual({ active: false })

  // And the grant is alive: one more refresh with the stored token works.
  const forced = await sandbox.run(['token', '--force-refresh'], { env: FILE_STORE })
  expect(forced.code).toBe(0)
  expect(oidc.count('refresh_token')).toBe(2)
  expect(oidc.requests.at(-1)).toMatchObject({ grantType: 'refresh_token', status: 200 })
  expect(oidc.requests.at(-1)!.body.refresh_token).toBe(after.refreshToken)
  expect(await oidc.introspect(forced.stdout.trimEnd())).toMatchObject({ active: true, sub: 'alice' })
}, 180_000)

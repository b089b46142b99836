/**
 * Client credentials (docs/design.md#oauth-20-and-openid-connect) and credentials from variables (docs/design.md#credentials-from-variables) end to end against a
 * real OpenID provider: a service account with no config at all, the grant run again
 * (there is no refresh token) when the token runs low, and the secret written nowhere.
 */
import fs from 'node:fs'

import { Sandbox } from '../support/cli.js'
import { credentialsFile, expireStoredAccessToken, FILE_STORE, readConfig, stored } from '../support/oauth2-e2e.js'
import { inTerminal } from '../support/terminal.js'
import { type OidcServer, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, startOidcServer } from '../support/oidc-server.js'

let sandbox: Sandbox
let oidc: OidcServer

beforeEach(async () => {
  sandbox = new Sandbox()
  // 10 minutes: above the default --min-ttl (5m), below the 15m a test asks for to make it "run low".
  oidc = await startOidcServer({ accessTokenTtl: 600 })
})

afterEach(async () => {
  await oidc.close()
  sandbox.cleanup()
})

describe('client credentials from variables with no config at all', () => {
  const ci = () => ({
    TOKENCTL_ISSUER: oidc.issuer,
    TOKENCTL_PROTOCOL: 'oauth2',
    TOKENCTL_CLIENT_ID: SERVICE_CLIENT_ID,
    TOKENCTL_CLIENT_SECRET: SERVICE_CLIENT_SECRET,
    TOKENCTL_SCOPE: 'api:read',
    CI: 'true',
  })

  test('token works, the grant runs again when the token runs low, and the secret is in no file', async () => {
    // No TOKENCTL_STORE: as in CI, the keychain is out of reach and the tokens go to the runtime cache.
    const first = await sandbox.run(['token'], { env: ci() })
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toMatch(/^\S+\n$/)
    const token = first.stdout.trimEnd()
    expect(await oidc.introspect(token)).toMatchObject({
      active: true,
      client_id: SERVICE_CLIENT_ID,
      scope: 'api:read',
    })
    expect(oidc.requests).toHaveLength(1)
    expect(oidc.requests[0]).toMatchObject({ grantType: 'client_credentials', clientAuth: 'basic', status: 200 })
    expect(oidc.requests[0]!.body).toEqual({ grant_type: 'client_credentials', scope: 'api:read' })
    expect(oidc.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${SERVICE_CLIENT_ID}:${SERVICE_CLIENT_SECRET}`).toString('base64')}`,
    )

    // Cached: the next call makes no request.
    expect(await sandbox.run(['token'], { env: ci() })).toMatchObject({ code: 0, stdout: first.stdout })
    expect(oidc.requests).toHaveLength(1)

    // Running low (10 minutes left, 15 wanted): the grant is run again; there is nothing to refresh.
    const again = await sandbox.run(['token', '--min-ttl', '15m'], { env: ci() })
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/warning/i)
    expect(again.stdout).not.toBe(first.stdout)
    expect(oidc.count('client_credentials')).toBe(2)
    expect(oidc.count('refresh_token')).toBe(0)
    expect(await oidc.introspect(again.stdout.trimEnd())).toMatchObject({ active: true, client_id: SERVICE_CLIENT_ID })

    const status = await sandbox.run(['status', '--json'], { env: ci() })
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      env: 'default',
      loggedIn: true,
      user: SERVICE_CLIENT_ID,
      protocol: 'oauth2',
      refreshExpiresAt: null,
    })

    // Something was cached, and no file of the sandbox (no config either) holds the secret.
    expect(sandbox.filesContaining(again.stdout.trimEnd()).length).toBeGreaterThan(0)
    expect(fs.existsSync(sandbox.configFile)).toBe(false)
    expect(sandbox.filesContaining(SERVICE_CLIENT_SECRET)).toEqual([])
  })

  test('the same with the file store: the stored record has no client secret and no refresh token', async () => {
    const result = await sandbox.run(['token'], { env: { ...ci(), ...FILE_STORE } })
    expect(result.code).toBe(0)
    const record = stored(sandbox, 'default')
    expect(record).toMatchObject({ accessToken: result.stdout.trimEnd(), user: SERVICE_CLIENT_ID })
    expect(record?.refreshToken).toBeUndefined()
    expect(record?.clientSecret).toBeUndefined()
    expect(sandbox.filesContaining(SERVICE_CLIENT_SECRET)).toEqual([])
  })

  test('a wrong secret: exit 4, naming the client, and the secret is not echoed', async () => {
    const wrong = 'wrong-secret-fedcba9876543210'
    const result = await sandbox.run(['token'], { env: { ...ci(), TOKENCTL_CLIENT_SECRET: wrong } })
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expect(result.stderr).toMatch(/did not accept the client "tokenctl-service".*invalid_client/)
    expect(result.stderr).not.toContain(wrong)
    expect(oidc.requests.map((request) => request.status)).toEqual([401])
    expect(sandbox.filesContaining(wrong)).toEqual([])
  })

  test('no secret at all in CI: exit 3 naming TOKENCTL_CLIENT_SECRET, no request', async () => {
    const result = await sandbox.run(['login', '--flow', 'client-credentials'], {
      env: { ...ci(), ...FILE_STORE, TOKENCTL_CLIENT_SECRET: undefined },
    })
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/needs the secret of client "tokenctl-service"/)
    expect(result.stderr).toMatch(/TOKENCTL_CLIENT_SECRET/)
    expect(oidc.requests).toEqual([])
  })

  test('an http:// issuer that is not loopback is refused before anything else: exit 2', async () => {
    const result = await sandbox.run(['token'], { env: { ...ci(), TOKENCTL_ISSUER: 'http://id.example.test' } })
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('TOKENCTL_ISSUER')
  })
})

describe('login --flow client-credentials on an env from the config', () => {
  test('the secret from TOKENCTL_CLIENT_SECRET is used, never stored, and needed again for the next grant', async () => {
    const add = await sandbox.run(
      ['env', 'add', 'svc', '--issuer', oidc.issuer, '--client-id', SERVICE_CLIENT_ID, '--scope', 'api:read'],
      { env: FILE_STORE },
    )
    expect(add.code).toBe(0)
    const secret = { ...FILE_STORE, TOKENCTL_CLIENT_SECRET: SERVICE_CLIENT_SECRET }

    const login = await sandbox.run(['login', '--flow', 'client-credentials'], { env: secret })
    expect(login).toMatchObject({ code: 0, stdout: '' })
    expect(login.stderr).toMatch(/Logged in to svc as tokenctl-service/)
    const record = stored(sandbox, 'svc')
    expect(record).toMatchObject({ flow: 'client-credentials', user: SERVICE_CLIENT_ID })
    expect(record?.accessToken).toBeTruthy()
    expect(record?.clientSecret).toBeUndefined()
    expect(record?.refreshToken).toBeUndefined()
    expect(JSON.stringify(readConfig(sandbox))).not.toContain(SERVICE_CLIENT_SECRET)
    expect(sandbox.filesContaining(SERVICE_CLIENT_SECRET)).toEqual([])

    // Running low: the grant runs again with the variable's secret.
    const again = await sandbox.run(['token', '--min-ttl', '15m'], { env: secret })
    expect(again.code).toBe(0)
    expect(oidc.count('client_credentials')).toBe(2)
    expect(again.stdout.trimEnd()).toBe(stored(sandbox, 'svc')?.accessToken)

    // Without it there is no secret to run the grant with: a login is needed (exit 3), no request made.
    const without = await sandbox.run(['token', '--min-ttl', '15m'], { env: FILE_STORE })
    expect(without).toMatchObject({ code: 3, stdout: '' })
    expect(without.stderr).toMatch(/TOKENCTL_CLIENT_SECRET/)
    expect(oidc.count('client_credentials')).toBe(2)
  })
})

describe('a client secret typed at a terminal (prompted at login on a TTY, kept in the store)', () => {
  test('asked for when the server wants one, kept in the store record, and used to run the grant again', async () => {
    expect(
      await sandbox.run([
        'env',
        'add',
        'svc',
        '--issuer',
        oidc.issuer,
        '--client-id',
        SERVICE_CLIENT_ID,
        '--scope',
        'api:read',
      ]),
    ).toMatchObject({ code: 0 })
    const terminal = inTerminal(['login', '--flow', 'client-credentials', '--store', 'file'], sandbox.env())
    try {
      await terminal.waitFor('Client secret for tokenctl-service')
      terminal.type('not-the-secret\r')
      // The server refused it: asked once more.
      await terminal.waitFor('The server refused the client secret')
      terminal.type(`${SERVICE_CLIENT_SECRET}\r`)
      expect(await terminal.exited).toBe(0)
    } finally {
      terminal.kill()
    }
    expect(terminal.screen()).toContain('Logged in to svc as tokenctl-service')
    expect(terminal.screen()).not.toContain(SERVICE_CLIENT_SECRET)
    expect(oidc.requests.map((request) => [request.grantType, request.clientAuth, request.status])).toEqual([
      ['client_credentials', 'basic', 401],
      ['client_credentials', 'basic', 200],
    ])
    expect(stored(sandbox, 'svc')).toMatchObject({ flow: 'client-credentials', clientSecret: SERVICE_CLIENT_SECRET })
    // In the store only: not in the config, not in the audit log, nowhere else.
    expect(sandbox.filesContaining(SERVICE_CLIENT_SECRET)).toEqual([credentialsFile(sandbox)])

    // Expired, yet no person is needed: status says so (exit 0) without running the grant.
    expireStoredAccessToken(sandbox, 'svc')
    const requestsBefore = oidc.requests.length
    const status = await sandbox.run(['status', '--json'], { env: FILE_STORE })
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ env: 'svc', loggedIn: false })
    expect(oidc.requests).toHaveLength(requestsBefore)

    // Running low, with no variable: the stored secret runs the grant again.
    const again = await sandbox.run(['token', '--min-ttl', '15m'], { env: FILE_STORE })
    expect(again.code).toBe(0)
    expect(oidc.requests.at(-1)).toMatchObject({ grantType: 'client_credentials', clientAuth: 'basic', status: 200 })
    expect(again.stdout.trimEnd()).toBe(stored(sandbox, 'svc')?.accessToken)
    expect(stored(sandbox, 'svc')?.clientSecret).toBe(SERVICE_CLIENT_SECRET)
  })
})

describe('client id from a variable beside a config', () => {
  test('TOKENCTL_<ENV>_CLIENT_ID and _CLIENT_SECRET are used together, over the client id of the config', async () => {
    // A config made for people (the public client); CI names its service client beside it.
    expect(
      await sandbox.run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', 'tokenctl-cli'], {
        env: FILE_STORE,
      }),
    ).toMatchObject({ code: 0 })
    const result = await sandbox.run(['token'], {
      env: {
        ...FILE_STORE,
        CI: 'true',
        TOKENCTL_CORP_CLIENT_ID: SERVICE_CLIENT_ID,
        TOKENCTL_CORP_CLIENT_SECRET: SERVICE_CLIENT_SECRET,
      },
    })
    expect(result).toMatchObject({ code: 0 })
    expect(oidc.requests).toHaveLength(1)
    expect(oidc.requests[0]).toMatchObject({ grantType: 'client_credentials', clientAuth: 'basic', status: 200 })
    expect(oidc.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${SERVICE_CLIENT_ID}:${SERVICE_CLIENT_SECRET}`).toString('base64')}`,
    )
    expect(await oidc.introspect(result.stdout.trimEnd())).toMatchObject({ active: true, client_id: SERVICE_CLIENT_ID })
  })
})

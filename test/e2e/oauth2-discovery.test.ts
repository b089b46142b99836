/**
 * docs/design.md#oauth-20-and-openid-connect discovery end to end against a real OpenID provider: OpenID configuration
 * first, then RFC 8414 with the well-known part inserted before the issuer's path; what
 * happens when neither answers or the issuer is not the one given; the endpoints kept in
 * the config (and shown by `env show`); and discovery run again when a kept endpoint
 * stops answering.
 */
import fs from 'node:fs'

import { type RunResult, Sandbox } from '../support/cli.js'
import { closedPort } from '../support/listen.js'
import {
  credentialsFile,
  expireStoredAccessToken,
  FILE_STORE,
  readConfig,
  storedTokens,
  writeConfig,
} from '../support/oauth2-e2e.js'
import {
  CLI_CLIENT_ID,
  type DiscoveryMode,
  type OidcServer,
  type OidcServerOptions,
  PASSWORD_CLIENT_ID,
  startOidcServer,
} from '../support/oidc-server.js'

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

const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<RunResult> =>
  sandbox.run(args, { env: { ...FILE_STORE, ...env }, input })

const ISSUER_PATH = '/realms/test'

describe('discovery at env add', () => {
  test.each<[DiscoveryMode, string]>([
    ['ok', 'the OpenID configuration'],
    ['missing-oidc', 'RFC 8414 at the path-inserted URL when the OpenID document is 404'],
    ['not-json', 'RFC 8414 at the path-inserted URL when the OpenID document is an HTML page'],
  ])('%s: the endpoints come from %s, and are kept in the config', async (mode) => {
    const oidc = await serve({ issuerPath: ISSUER_PATH, discovery: mode })
    const added = await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID])
    expect(added).toMatchObject({ code: 0, stdout: '' })
    expect(added.stderr).toContain(`token ${oidc.endpoints.token}`)

    const kept = readConfig(sandbox)?.envs.corp
    expect(kept).toMatchObject({
      protocol: 'oauth2',
      issuer: oidc.issuer,
      clientId: CLI_CLIENT_ID,
      tokenUrl: oidc.endpoints.token,
      deviceUrl: oidc.endpoints.deviceAuthorization,
      authorizeUrl: oidc.endpoints.authorization,
      revokeUrl: oidc.endpoints.revocation,
      defaultScope: 'openid offline_access',
      discoveredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    })
    expect(oidc.endpoints.token).toContain(ISSUER_PATH)
  })

  test('both documents missing: exit 5 naming both URLs tried, nothing saved', async () => {
    const oidc = await serve({ issuerPath: ISSUER_PATH, discovery: 'missing-all' })
    const result = await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID])
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toContain(oidc.endpoints.discovery)
    expect(result.stderr).toContain(oidc.endpoints.oauthDiscovery)
    // RFC 8414 §3.1 inserts the well-known part before the issuer's path; it never appends it.
    expect(oidc.endpoints.oauthDiscovery).toBe(`${oidc.origin}/.well-known/oauth-authorization-server${ISSUER_PATH}`)
    expect(result.stderr).not.toContain(`${oidc.issuer}/.well-known/oauth-authorization-server`)
    expect(result.stderr).toMatch(/--token-url/)
    expect(readConfig(sandbox)?.envs.corp).toBeUndefined()
  })

  test('a document naming another issuer: exit 2, nothing saved', async () => {
    const oidc = await serve({ discovery: 'wrong-issuer' })
    const result = await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain(`${oidc.origin}/someone-else`)
    expect(readConfig(sandbox)?.envs.corp).toBeUndefined()
  })

  test('a trailing slash on the issuer given is not a mismatch', async () => {
    const oidc = await serve({ issuerPath: ISSUER_PATH })
    expect(
      await run(['env', 'add', 'corp', '--issuer', `${oidc.issuer}/`, '--client-id', CLI_CLIENT_ID]),
    ).toMatchObject({ code: 0 })
    expect(readConfig(sandbox)?.envs.corp?.tokenUrl).toBe(oidc.endpoints.token)
  })
})

describe('env show --json', () => {
  test('lists the discovered endpoints and never a secret or a token', async () => {
    const oidc = await serve()
    expect(await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', PASSWORD_CLIENT_ID])).toMatchObject(
      { code: 0 },
    )
    expect(await run(['login', '--username', 'alice', '--password-stdin'], {}, 'wonderland\n')).toMatchObject({
      code: 0,
    })
    // As if a person had typed a client secret at login: it is kept in the store record.
    const typed = 'typed-secret-0123456789abcdef'
    const data = JSON.parse(fs.readFileSync(credentialsFile(sandbox), 'utf8')) as {
      envs: Record<string, Record<string, unknown>>
    }
    data.envs.corp!.clientSecret = typed
    fs.writeFileSync(credentialsFile(sandbox), JSON.stringify(data), { mode: 0o600 })
    const record = storedTokens(sandbox, 'corp')

    const fromVariable = 'variable-secret-0123456789abcdef'
    const shown = await run(['env', 'show', 'corp', '--json'], { TOKENCTL_CLIENT_SECRET: fromVariable })
    expect(shown).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: 'corp',
      current: true,
      protocol: 'oauth2',
      url: oidc.issuer,
      user: 'alice',
      loggedIn: true,
      issuer: oidc.issuer,
      clientId: PASSWORD_CLIENT_ID,
      tokenUrl: oidc.endpoints.token,
      deviceUrl: oidc.endpoints.deviceAuthorization,
      authorizeUrl: oidc.endpoints.authorization,
      revokeUrl: oidc.endpoints.revocation,
      discoveredAt: expect.any(String),
    })
    for (const secret of [typed, fromVariable, 'wonderland', record.accessToken, record.refreshToken]) {
      expect(shown.stdout).not.toContain(secret)
    }
    expect(shown.stdout).not.toMatch(/secret/i)
  })
})

describe('rediscovery when a kept endpoint stops answering', () => {
  test.each([
    ['refuses connections', async () => `http://127.0.0.1:${await closedPort()}/token`],
    ['answers 404', async () => `${server!.issuer}/moved/token`],
  ])('a token endpoint that %s: refreshed after rediscovery, and the config updated', async (_what, wrongUrl) => {
    const oidc = await serve({ issuerPath: ISSUER_PATH })
    expect(await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', PASSWORD_CLIENT_ID])).toMatchObject(
      { code: 0 },
    )
    expect(await run(['login', '--username', 'alice', '--password-stdin'], {}, 'wonderland\n')).toMatchObject({
      code: 0,
    })
    const login = storedTokens(sandbox, 'corp')

    const config = readConfig(sandbox)!
    const stale = await wrongUrl()
    config.envs.corp = { ...config.envs.corp, tokenUrl: stale, discoveredAt: '2020-01-01T00:00:00Z' }
    writeConfig(sandbox, config)
    // As if the login had been made while that endpoint was the one kept: a login is bound to
    // the origins its secrets go to, and one moved by hand to another host would be refused.
    const data = JSON.parse(fs.readFileSync(credentialsFile(sandbox), 'utf8')) as {
      envs: Record<string, { binding: { endpoints: string[] } }>
    }
    const { binding } = data.envs.corp!
    binding.endpoints = [...new Set([...binding.endpoints, new URL(stale).origin])].sort()
    fs.writeFileSync(credentialsFile(sandbox), JSON.stringify(data), { mode: 0o600 })
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'])
    expect(result).toMatchObject({ code: 0 })
    const refreshed = storedTokens(sandbox, 'corp')
    expect(result.stdout).toBe(`${refreshed.accessToken}\n`)
    expect(refreshed.refreshToken).not.toBe(login.refreshToken)
    expect(await oidc.introspect(refreshed.accessToken)).toMatchObject({ active: true })
    // One refresh reached the provider, at the endpoint discovery gave.
    expect(oidc.count('refresh_token')).toBe(1)
    expect(oidc.requests.at(-1)).toMatchObject({
      grantType: 'refresh_token',
      path: new URL(oidc.endpoints.token).pathname,
      status: 200,
    })

    const updated = readConfig(sandbox)!.envs.corp!
    expect(updated.tokenUrl).toBe(oidc.endpoints.token)
    expect(updated.discoveredAt).not.toBe('2020-01-01T00:00:00Z')
    expect(Date.parse(updated.discoveredAt as string)).toBeGreaterThan(Date.now() - 60_000)
  })

  test('an endpoint given by hand is not second-guessed: no discovery, exit 5', async () => {
    const oidc = await serve()
    const stale = `http://127.0.0.1:${await closedPort()}/token`
    expect(
      await run([
        'env',
        'add',
        'corp',
        '--protocol',
        'oauth2',
        '--token-url',
        stale,
        '--client-id',
        PASSWORD_CLIENT_ID,
      ]),
    ).toMatchObject({ code: 0 })
    const result = await run(
      ['login', '--flow', 'password', '--username', 'alice', '--password-stdin'],
      {},
      'wonderland\n',
    )
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(readConfig(sandbox)!.envs.corp!.tokenUrl).toBe(stale)
    expect(oidc.requests).toEqual([])
  })
})

/**
 * docs/design.md#oauth-20-and-openid-connect password flow and RFC 6749 §5.2 errors end to end against a real OpenID
 * provider: a public and a client_secret_post client, a rejected password, and a refresh
 * token the provider no longer takes (dropped, exit 3, or a fresh login from credential variables).
 */
import fs from 'node:fs'
import http from 'node:http'
import type { Socket } from 'node:net'

import { type RunResult, Sandbox } from '../support/cli.js'
import { listenOnLoopback } from '../support/listen.js'
import { credentialsFile, expireStoredAccessToken, FILE_STORE, stored, storedTokens } from '../support/oauth2-e2e.js'
import {
  type OidcServer,
  PASSWORD_CLIENT_ID,
  POST_CLIENT_ID,
  POST_CLIENT_SECRET,
  startOidcServer,
} from '../support/oidc-server.js'

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

const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<RunResult> =>
  sandbox.run(args, { env: { ...FILE_STORE, ...env }, input })

async function addEnv(clientId: string, ...extra: string[]): Promise<void> {
  expect(await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', clientId, ...extra])).toMatchObject({
    code: 0,
  })
}

const passwordLogin = (env: Record<string, string | undefined> = {}, password = 'wonderland') =>
  run(['login', '--flow', 'password', '--username', 'alice', '--password-stdin'], env, `${password}\n`)

/** What the provider does for an admin who ends a session: RFC 7009 for the grant behind a refresh token. */
async function revokeAtProvider(refreshToken: string, clientId: string): Promise<void> {
  const response = await fetch(oidc.endpoints.revocation, {
    method: 'POST',
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: clientId }),
  })
  expect(response.status).toBe(200)
  expect(await oidc.introspect(refreshToken)).toEqual({ active: false })
}

describe('password flow (RFC 6749 §4.3)', () => {
  test('a public client with --password-stdin: logged in, only the client id sent, the password stored nowhere', async () => {
    await addEnv(PASSWORD_CLIENT_ID)
    const result = await passwordLogin()
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toMatch(/Logged in to corp as alice/)
    expect(oidc.requests).toHaveLength(1)
    expect(oidc.requests[0]).toMatchObject({ grantType: 'password', clientAuth: 'none', status: 200 })
    expect(oidc.requests[0]!.body).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: 'wonderland',
      scope: 'openid offline_access',
      client_id: PASSWORD_CLIENT_ID,
    })
    const record = storedTokens(sandbox, 'corp')
    expect(record).toMatchObject({ user: 'alice', flow: 'password' })
    expect(await oidc.introspect(record.refreshToken)).toMatchObject({ active: true, sub: 'alice' })
    expect(sandbox.filesContaining('wonderland')).toEqual([])
  })

  test('a wrong password: exit 4, nothing stored', async () => {
    await addEnv(PASSWORD_CLIENT_ID)
    const result = await passwordLogin({}, 'not-the-password')
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expect(result.stderr).toMatch(/rejected the user name or password.*invalid_grant/)
    expect(result.stderr).not.toContain('not-the-password')
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('a client_secret_post client with TOKENCTL_CLIENT_SECRET and --client-auth post: the secret in the body, login and refresh', async () => {
    await addEnv(POST_CLIENT_ID, '--client-auth', 'post')
    const secret = { TOKENCTL_CLIENT_SECRET: POST_CLIENT_SECRET }
    expect(await passwordLogin(secret)).toMatchObject({ code: 0, stdout: '' })
    expect(oidc.requests[0]).toMatchObject({ grantType: 'password', clientAuth: 'post', status: 200 })
    expect(oidc.requests[0]!.body).toMatchObject({ client_id: POST_CLIENT_ID, client_secret: POST_CLIENT_SECRET })
    expect(oidc.requests[0]!.headers.authorization).toBeUndefined()
    const login = storedTokens(sandbox, 'corp')
    expect(login.clientSecret).toBeUndefined()

    expireStoredAccessToken(sandbox, 'corp')
    const refreshed = await run(['token'], secret)
    expect(refreshed.code).toBe(0)
    expect(oidc.requests.at(-1)).toMatchObject({ grantType: 'refresh_token', clientAuth: 'post', status: 200 })
    expect(oidc.requests.at(-1)!.body).toEqual({
      grant_type: 'refresh_token',
      refresh_token: login.refreshToken,
      client_id: POST_CLIENT_ID,
      client_secret: POST_CLIENT_SECRET,
    })
    expect(storedTokens(sandbox, 'corp').refreshToken).not.toBe(login.refreshToken)
    expect(sandbox.filesContaining(POST_CLIENT_SECRET)).toEqual([])
  })

  test('the same client with Basic (the discovered default, which this server refuses for it): exit 4 saying so', async () => {
    await addEnv(POST_CLIENT_ID)
    const result = await passwordLogin({ TOKENCTL_CLIENT_SECRET: POST_CLIENT_SECRET })
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expect(result.stderr).toMatch(/invalid_client/)
    expect(result.stderr).toMatch(/client_secret_post/)
    expect(result.stderr).not.toContain(POST_CLIENT_SECRET)
    expect(oidc.requests).toHaveLength(1)
    expect(oidc.requests[0]).toMatchObject({ clientAuth: 'basic', status: 401 })
  })
})

describe('invalid_grant on refresh (the grant revoked at the provider)', () => {
  test('no credentials from variables: the refresh token is dropped and token exits 3', async () => {
    await addEnv(PASSWORD_CLIENT_ID)
    expect(await passwordLogin()).toMatchObject({ code: 0 })
    const login = storedTokens(sandbox, 'corp')
    await revokeAtProvider(login.refreshToken, PASSWORD_CLIENT_ID)
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'])
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/no longer accepts the refresh token of "corp".*invalid_grant/)
    expect(result.stderr).toMatch(/tokenctl login -e corp/)
    expect(oidc.requests.at(-1)).toMatchObject({ grantType: 'refresh_token', status: 400 })
    const after = stored(sandbox, 'corp')
    expect(after?.refreshToken).toBeUndefined()
    expect(after?.accessToken).toBeUndefined()
    // status tells the truth now, and the next token call does not try the dead token again.
    expect(await run(['status'])).toMatchObject({ code: 3 })
    const requests = oidc.requests.length
    expect(await run(['token'])).toMatchObject({ code: 3 })
    expect(oidc.requests.length).toBe(requests)
  })

  test('with TOKENCTL_USERNAME and TOKENCTL_PASSWORD: a fresh password login instead', async () => {
    await addEnv(PASSWORD_CLIENT_ID)
    expect(await passwordLogin()).toMatchObject({ code: 0 })
    const login = storedTokens(sandbox, 'corp')
    await revokeAtProvider(login.refreshToken, PASSWORD_CLIENT_ID)
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'], { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: 'wonderland' })
    expect(result).toMatchObject({ code: 0 })
    expect(oidc.requests.slice(-2).map((request) => [request.grantType, request.status])).toEqual([
      ['refresh_token', 400],
      ['password', 200],
    ])
    const after = storedTokens(sandbox, 'corp')
    expect(result.stdout).toBe(`${after.accessToken}\n`)
    expect(after.refreshToken).not.toBe(login.refreshToken)
    expect(await oidc.introspect(after.refreshToken)).toMatchObject({ active: true, sub: 'alice' })
    expect(sandbox.filesContaining('wonderland')).toEqual([])
  })
})

describe('a server that echoes what it was sent in its error (never on stderr, nowhere in a file)', () => {
  /**
   * Not the provider: a token endpoint that answers every request with RFC 6749 §5.2's
   * invalid_grant and quotes the request's secret fields back in error_description, as a
   * careless server's debug message would.
   */
  async function echoingServer(): Promise<{ tokenUrl: string; close: () => Promise<void> }> {
    const sockets = new Set<Socket>()
    const server = http.createServer((request, response) => {
      let body = ''
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      request.on('end', () => {
        const form = new URLSearchParams(body)
        const quoted = ['password', 'refresh_token', 'device_code', 'code_verifier']
          .map((field) => `${field}=${form.get(field) ?? ''}`)
          .join(' ')
        response.writeHead(400, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ error: 'invalid_grant', error_description: `cannot use ${quoted}` }))
      })
    })
    const { url } = await listenOnLoopback(server, sockets)
    return {
      tokenUrl: `${url}/token`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          for (const socket of sockets) socket.destroy()
        }),
    }
  }

  test('the password and the refresh token are blanked out of the message', async () => {
    const echoing = await echoingServer()
    try {
      expect(
        await run([
          'env',
          'add',
          'echo',
          '--protocol',
          'oauth2',
          '--token-url',
          echoing.tokenUrl,
          '--client-id',
          PASSWORD_CLIENT_ID,
        ]),
      ).toMatchObject({ code: 0 })
      const password = 'correct-horse-battery-staple'
      const login = await run(
        ['login', '-e', 'echo', '--flow', 'password', '--username', 'alice', '--password-stdin'],
        {},
        `${password}\n`,
      )
      expect(login).toMatchObject({ code: 4, stdout: '' })
      expect(login.stderr).toMatch(/invalid_grant/)
      expect(login.stderr).not.toContain(password)

      // A stored login whose refresh token the server now refuses, quoting it.
      const refreshToken = 'rt-0123456789abcdefghijklmnopqrstuv'
      const record = {
        refreshToken,
        accessToken: 'at-0123456789abcdefghijklmnopqrstuv',
        accessExpiresAt: Date.now() - 60_000,
        flow: 'password',
      }
      fs.mkdirSync(sandbox.configDir, { recursive: true, mode: 0o700 })
      fs.writeFileSync(credentialsFile(sandbox), JSON.stringify({ version: 1, envs: { echo: record } }), {
        mode: 0o600,
      })
      const token = await run(['token', '-e', 'echo'])
      expect(token).toMatchObject({ code: 3, stdout: '' })
      expect(token.stderr).toMatch(/no longer accepts the refresh token.*invalid_grant/)
      expect(token.stderr).not.toContain(refreshToken)
      expect(sandbox.filesContaining(password)).toEqual([])
      expect(sandbox.filesContaining(refreshToken)).toEqual([])
    } finally {
      await echoing.close()
    }
  })
})

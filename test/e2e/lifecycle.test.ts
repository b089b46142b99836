/**
 * The token lifecycle end to end (docs/design.md#the-api-protocol, docs/design.md#transport, docs/design.md#commands, docs/design.md#output-and-exit-codes, docs/design.md#where-things-are-kept, docs/design.md#credentials-from-variables): the built CLI as a
 * subprocess against the real JSON login API server of test/support, with the plain-file
 * store (the keychain has its own suite). No mocks.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, type ApiServerOptions, type FailureMode } from '../support/api-server.js'
import { type RunResult } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'

interface StoredRecord {
  refreshToken?: string
  refreshExpiresAt?: number
  accessToken?: string
  accessExpiresAt?: number
  user?: string
}

const PASSWORD = 'wonderland'
const LOGIN = '/auth/token'
const REFRESH = '/auth/token/refresh'
const REVOKE = '/auth/token/revoke'
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/
const STACK_LINE = /^\s+at /m

const fixture = useFileStoreFixture()
const { serve, run } = fixture

async function addEnv(name: string, server: ApiServer, ...extra: string[]): Promise<void> {
  const result = await run(['env', 'add', name, '--url', server.url, ...extra])
  expect(result).toMatchObject({ code: 0, stdout: '' })
}

async function login(env = 'dev'): Promise<void> {
  const result = await run(['login', '-e', env, '--username', 'alice', '--password-stdin'], {}, `${PASSWORD}\n`)
  expect(result).toMatchObject({ code: 0, stdout: '' })
}

/** A server, env `dev` (current) pointing at it, and alice logged in. */
async function loggedIn(options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = await serve(options)
  await addEnv('dev', server)
  await login()
  return server
}

const credentialsFile = () => path.join(fixture.sandbox.configDir, 'credentials.json')

function stored(env = 'dev'): StoredRecord | undefined {
  if (!fs.existsSync(credentialsFile())) return undefined
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }
  return data.envs[env]
}

function storedOrFail(
  env = 'dev',
): Required<Pick<StoredRecord, 'refreshToken' | 'accessToken' | 'accessExpiresAt'>> & StoredRecord {
  const record = stored(env)
  if (!record?.refreshToken || !record.accessToken || record.accessExpiresAt === undefined)
    throw new Error(`no complete record for ${env}`)
  return record as ReturnType<typeof storedOrFail>
}

async function me(server: ApiServer, token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  return { status: response.status, body: await response.json() }
}

/** An error as docs/design.md#output-and-exit-codes wants it: a sentence or two, no stack trace. */
function expectShortError(result: RunResult): void {
  expect(result.stderr).not.toBe('')
  expect(result.stderr).not.toMatch(STACK_LINE)
  expect(result.stderr.length).toBeLessThan(600)
  expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(3)
}

function jwtExp(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number }
  return payload.exp
}

// ---- 1. token ---------------------------------------------------------------------------

describe('token', () => {
  test('prints exactly the token and a newline, which the server accepts; a second call is served from the store', async () => {
    const server = await loggedIn()
    const before = server.requests.length

    const first = await run(['token'])
    expect(first).toMatchObject({ code: 0, stderr: '' })
    const record = storedOrFail()
    expect(first.stdout).toBe(`${record.accessToken}\n`)
    expect(server.requests.length).toBe(before)
    expect(await me(server, record.accessToken)).toEqual({ status: 200, body: { user: 'alice' } })

    const requestsAfterMe = server.requests.length
    const second = await run(['token'])
    expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' })
    expect(server.requests.length).toBe(requestsAfterMe)
  })

  test('a token with 4 minutes left is refreshed under the default 5m --min-ttl, served as it is with --min-ttl 0s', async () => {
    const server = await loggedIn({ accessTtl: 240 })
    const loginToken = storedOrFail().accessToken

    const lenient = await run(['token', '--min-ttl', '0s'])
    expect(lenient).toMatchObject({ code: 0, stdout: `${loginToken}\n`, stderr: '' })
    expect(server.count(REFRESH)).toBe(0)

    const fresh = await run(['token'])
    expect(fresh.code).toBe(0)
    expect(server.count(REFRESH)).toBe(1)
    const refreshed = storedOrFail().accessToken
    expect(refreshed).not.toBe(loginToken)
    expect(fresh.stdout).toBe(`${refreshed}\n`)
    // The server grants 4 minutes, less than the 5m asked for: printed anyway, with a warning.
    expect(fresh.stderr).toMatch(/warning/i)
    expect(server.isAccessTokenActive(refreshed)).toBe(true)

    const again = await run(['token', '--min-ttl', '0s'])
    expect(again).toMatchObject({ code: 0, stdout: `${refreshed}\n`, stderr: '' })
    const threeMinutes = await run(['token', '--min-ttl', '3m'])
    expect(threeMinutes).toMatchObject({ code: 0, stdout: `${refreshed}\n`, stderr: '' })
    expect(server.count(REFRESH)).toBe(1)
  })

  test('--force-refresh refreshes every time, even with a fresh cached token', async () => {
    const server = await loggedIn()
    const seen = new Set([storedOrFail().accessToken])
    for (let i = 1; i <= 2; i++) {
      const result = await run(['token', '--force-refresh'])
      expect(result).toMatchObject({ code: 0, stderr: '' })
      expect(server.count(REFRESH)).toBe(i)
      const token = result.stdout.slice(0, -1)
      expect(result.stdout).toBe(`${storedOrFail().accessToken}\n`)
      expect(seen.has(token)).toBe(false)
      seen.add(token)
      expect(server.isAccessTokenActive(token)).toBe(true)
    }
  })
})

// ---- 2. formats -------------------------------------------------------------------------

describe('token -f', () => {
  let server: ApiServer
  let token: string
  beforeEach(async () => {
    server = await loggedIn()
    token = storedOrFail().accessToken
  })

  test.each([
    [['-f', 'token'], (t: string) => `${t}\n`],
    [['-f', 'header'], (t: string) => `Authorization: Bearer ${t}\n`],
    [['--format', 'header'], (t: string) => `Authorization: Bearer ${t}\n`],
    [['-f', 'env'], (t: string) => `export TOKENCTL_TOKEN='${t}'\n`],
    [['-f', 'env', '--var', 'API_TOKEN'], (t: string) => `export API_TOKEN='${t}'\n`],
    [['-f', 'curl'], (t: string) => `header = "Authorization: Bearer ${t}"\n`],
  ])('%j prints the exact line', async (args, expected) => {
    const result = await run(['token', ...args])
    expect(result).toMatchObject({ code: 0, stdout: expected(token), stderr: '' })
  })

  test('json: one line with exactly env, tokenType, token, expiresAt (ISO, Z) and expiresIn (whole seconds)', async () => {
    const result = await run(['token', '-f', 'json'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toMatch(/^\{[^\n]*\}\n$/)
    const json = JSON.parse(result.stdout) as Record<string, unknown>
    expect(Object.keys(json)).toEqual(['env', 'tokenType', 'token', 'expiresAt', 'expiresIn'])
    expect(json).toMatchObject({ env: 'dev', tokenType: 'Bearer', token })
    expect(json.expiresAt).toMatch(ISO_Z)
    const expiresAt = Date.parse(json.expiresAt as string)
    expect(Math.abs(expiresAt - storedOrFail().accessExpiresAt)).toBeLessThan(1000)
    expect(Number.isInteger(json.expiresIn)).toBe(true)
    expect(json.expiresIn).toBeGreaterThan(1700)
    expect(json.expiresIn).toBeLessThanOrEqual(1800)
  })

  test('--var 1bad is a usage error (exit 2), nothing on stdout', async () => {
    const result = await run(['token', '-f', 'env', '--var', '1bad'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expectShortError(result)
  })

  test('--min-ttl garbage is a usage error (exit 2), nothing on stdout, no request', async () => {
    const before = server.requests.length
    const result = await run(['token', '--min-ttl', 'garbage'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expectShortError(result)
    expect(server.requests.length).toBe(before)
  })

  test('an unknown format is a usage error (exit 2)', async () => {
    const result = await run(['token', '-f', 'yaml'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).not.toMatch(STACK_LINE)
  })

  test('--min-ttl 2h against a 30-minute server: the fresh token is printed anyway, with a warning on stderr', async () => {
    const result = await run(['token', '--min-ttl', '2h'])
    expect(result.code).toBe(0)
    expect(server.count(REFRESH)).toBe(1)
    const fresh = storedOrFail().accessToken
    expect(fresh).not.toBe(token)
    expect(result.stdout).toBe(`${fresh}\n`)
    expect(result.stderr).toMatch(/warning/i)
    expect(result.stderr).toContain('--min-ttl')
    expect(result.stderr).not.toContain(fresh)
  })
})

// ---- 3. login ---------------------------------------------------------------------------

describe('login', () => {
  test('--username --password-stdin: the trailing newline is dropped, the refresh token is kept 0600, the password nowhere', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['login', '--username', 'alice', '--password-stdin'], {}, `${PASSWORD}\n`)
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).not.toMatch(STACK_LINE)

    const logins = server.requests.filter((r) => r.path === LOGIN)
    expect(logins).toHaveLength(1)
    expect(logins[0]!.body).toEqual({ username: 'alice', password: PASSWORD })
    expect(logins[0]!.headers['content-type']).toMatch(/^application\/json/)

    const record = storedOrFail()
    expect(server.isRefreshTokenActive(record.refreshToken)).toBe(true)
    expect(record.user).toBe('alice')
    if (process.platform !== 'win32') {
      expect(fs.statSync(credentialsFile()).mode & 0o777).toBe(0o600)
      expect(fs.statSync(fixture.sandbox.configDir).mode & 0o777).toBe(0o700)
    }
    for (const file of fixture.sandbox.files()) {
      expect({ file, hasPassword: fs.readFileSync(file).includes(PASSWORD) }).toEqual({ file, hasPassword: false })
    }
    for (const file of fixture.sandbox.files().filter((f) => f !== credentialsFile())) {
      expect({ file, hasRefreshToken: fs.readFileSync(file).includes(record.refreshToken) }).toEqual({
        file,
        hasRefreshToken: false,
      })
    }
  })

  test('--password-stdin drops one trailing \\r\\n too', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['login', '--username', 'alice', '--password-stdin'], {}, `${PASSWORD}\r\n`)
    expect(result.code).toBe(0)
    expect(server.requests.find((r) => r.path === LOGIN)?.body).toEqual({ username: 'alice', password: PASSWORD })
  })

  test('a wrong password is exit 4 and stores nothing', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['login', '--username', 'alice', '--password-stdin'], {}, 'not-the-password\n')
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expectShortError(result)
    expect(result.stderr).not.toContain('not-the-password')
    expect(stored()).toBeUndefined()
    expect(server.count(LOGIN)).toBe(1)
  })

  test('--no-input without credentials is exit 3 at once, with no request', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['login', '--no-input'])
    expect(result).toMatchObject({ code: 3, stdout: '', signal: null })
    expectShortError(result)
    expect(result.stderr).toContain('TOKENCTL_PASSWORD')
    expect(result.ms).toBeLessThan(15_000)
    expect(server.requests).toHaveLength(0)
    expect(stored()).toBeUndefined()
  })

  test.each([[[] as string[]], [['--username', 'alice']]])(
    'stdin not a terminal, no --password-stdin, no variables (%j): exit 3, no hang',
    async (extra) => {
      const server = await serve()
      await addEnv('dev', server)
      const result = await run(['login', ...extra])
      expect(result).toMatchObject({ code: 3, stdout: '', signal: null })
      expectShortError(result)
      expect(result.ms).toBeLessThan(15_000)
      expect(server.requests).toHaveLength(0)
    },
  )

  test('from TOKENCTL_USERNAME and TOKENCTL_PASSWORD with --no-input', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['login', '--no-input'], { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(server.requests.find((r) => r.path === LOGIN)?.body).toEqual({ username: 'alice', password: PASSWORD })
    expect(server.isRefreshTokenActive(storedOrFail().refreshToken)).toBe(true)
    for (const file of fixture.sandbox.files())
      expect({ file, hasPassword: fs.readFileSync(file).includes(PASSWORD) }).toEqual({ file, hasPassword: false })
  })

  test('TOKENCTL_<ENV>_PASSWORD (prod-eu → TOKENCTL_PROD_EU_PASSWORD) wins over TOKENCTL_PASSWORD', async () => {
    const server = await serve()
    await addEnv('prod-eu', server)

    const specificWins = await run(['login', '-e', 'prod-eu', '--no-input'], {
      TOKENCTL_USERNAME: 'alice',
      TOKENCTL_PASSWORD: 'generic-wrong',
      TOKENCTL_PROD_EU_PASSWORD: PASSWORD,
    })
    expect(specificWins).toMatchObject({ code: 0, stdout: '' })
    expect(server.requests.filter((r) => r.path === LOGIN).map((r) => r.body)).toEqual([
      { username: 'alice', password: PASSWORD },
    ])
    expect(stored('prod-eu')?.refreshToken).toBeDefined()

    // And the other way round: the per-env variable is the one sent even when it is wrong.
    const specificWrong = await run(['login', '-e', 'prod-eu', '--no-input'], {
      TOKENCTL_USERNAME: 'alice',
      TOKENCTL_PASSWORD: PASSWORD,
      TOKENCTL_PROD_EU_PASSWORD: 'specific-wrong',
    })
    expect(specificWrong).toMatchObject({ code: 4, stdout: '' })
    expect(server.requests.filter((r) => r.path === LOGIN).at(-1)?.body).toEqual({
      username: 'alice',
      password: 'specific-wrong',
    })
  })
})

// ---- 4. server failures -----------------------------------------------------------------

const FAILURES: FailureMode[] = ['html500', 'malformedJson', 'wrongShape', 'hang', 'drop', 'status:503', 'noToken']
const TIMEOUT_ENV = { TOKENCTL_TIMEOUT: '1' }

describe('server and network failures are exit 5', () => {
  test.each(FAILURES)('on login: %s → exit 5, nothing on stdout, a short message, nothing stored', async (mode) => {
    const server = await serve()
    await addEnv('dev', server)
    server.setFailure(mode, { path: LOGIN })
    const result = await run(['login', '--username', 'alice', '--password-stdin'], TIMEOUT_ENV, `${PASSWORD}\n`)
    expect(result).toMatchObject({ code: 5, stdout: '', signal: null })
    expectShortError(result)
    expect(result.stderr).not.toContain(PASSWORD)
    expect(result.ms).toBeLessThan(20_000)
    expect(stored()).toBeUndefined()
    // Sent requests are not replayed (docs/design.md#transport).
    expect(server.count(LOGIN)).toBe(1)
  })

  test.each(FAILURES)(
    'on refresh (token --force-refresh): %s → exit 5, credentials.json byte for byte unchanged',
    async (mode) => {
      const server = await loggedIn()
      const before = fs.readFileSync(credentialsFile())
      const refreshToken = storedOrFail().refreshToken
      server.setFailure(mode, { path: REFRESH })
      const result = await run(['token', '--force-refresh'], TIMEOUT_ENV)
      expect(result).toMatchObject({ code: 5, stdout: '', signal: null })
      expectShortError(result)
      expect(result.stderr).not.toContain(refreshToken)
      expect(result.ms).toBeLessThan(20_000)
      expect(fs.readFileSync(credentialsFile())).toEqual(before)
      expect(server.count(REFRESH)).toBe(1)
    },
  )

  test.each(['html500', 'hang', 'drop'] as FailureMode[])(
    'on refresh of an expiring token (refresh command): %s → exit 5, credentials.json unchanged',
    async (mode) => {
      const server = await loggedIn({ accessTtl: 60 })
      const before = fs.readFileSync(credentialsFile())
      server.setFailure(mode, { path: REFRESH })
      const viaToken = await run(['token'], TIMEOUT_ENV)
      expect(viaToken).toMatchObject({ code: 5, stdout: '' })
      expectShortError(viaToken)
      const viaRefresh = await run(['refresh', '--print'], TIMEOUT_ENV)
      expect(viaRefresh).toMatchObject({ code: 5, stdout: '' })
      expectShortError(viaRefresh)
      expect(fs.readFileSync(credentialsFile())).toEqual(before)
    },
  )

  test('an unreachable server (closed) is exit 5 on token --force-refresh', async () => {
    const server = await loggedIn()
    const before = fs.readFileSync(credentialsFile())
    await server.close()
    const result = await run(['token', '--force-refresh'], TIMEOUT_ENV)
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expectShortError(result)
    expect(fs.readFileSync(credentialsFile())).toEqual(before)
  })
})

// ---- 5. refresh token rejected ------------------------------------------------------------

describe('a refresh token the server no longer takes', () => {
  test.each([
    ['token --force-refresh', ['token', '--force-refresh'], {}],
    ['token with an expiring access token', ['token'], { accessTtl: 60 }],
    ['refresh', ['refresh'], {}],
  ] as Array<[string, string[], ApiServerOptions]>)(
    '%s without variables: exit 3 naming tokenctl login -e ENV',
    async (_name, args, options) => {
      const server = await loggedIn(options)
      server.revokeAll()
      const result = await run(args)
      expect(result).toMatchObject({ code: 3, stdout: '' })
      expectShortError(result)
      expect(result.stderr).toContain('tokenctl login -e dev')
      expect(server.count(REFRESH)).toBe(1)
      expect(server.count(LOGIN)).toBe(1)
    },
  )

  test.each([
    ['token --force-refresh', ['token', '--force-refresh'], {}],
    ['token with an expiring access token', ['token'], { accessTtl: 60 }],
  ] as Array<[string, string[], ApiServerOptions]>)(
    '%s with TOKENCTL_USERNAME/PASSWORD: falls back to a fresh login',
    async (_name, args, options) => {
      const server = await loggedIn(options)
      const oldRefresh = storedOrFail().refreshToken
      server.revokeAll()
      const result = await run(args, { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
      expect(result.code).toBe(0)
      expect(result.stderr).not.toMatch(STACK_LINE)
      expect(server.count(REFRESH)).toBe(1)
      expect(server.count(LOGIN, 'POST')).toBe(2)
      const record = storedOrFail()
      expect(result.stdout).toBe(`${record.accessToken}\n`)
      expect(server.isAccessTokenActive(record.accessToken)).toBe(true)
      expect(record.refreshToken).not.toBe(oldRefresh)
      expect(server.isRefreshTokenActive(record.refreshToken)).toBe(true)
    },
  )

  test('the refused refresh token is dropped: status then says a login is needed, and token makes no more requests', async () => {
    const server = await loggedIn()
    server.revokeAll()
    expect((await run(['token', '--force-refresh'])).code).toBe(3)
    // What it was issued for stays: the record is still alice's login to this server.
    expect(stored()).toEqual({ user: 'alice', binding: { protocol: 'api', server: server.url, user: 'alice' } })
    const status = await run(['status', '--json'])
    expect(status.code).toBe(3)
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: false, user: 'alice' })
    expect((await run(['token'])).code).toBe(3)
    expect(server.count(REFRESH)).toBe(1)
  })

  test('refresh with TOKENCTL_USERNAME/PASSWORD falls back to a fresh login too', async () => {
    const server = await loggedIn()
    server.revokeAll()
    const result = await run(['refresh'], { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(server.count(LOGIN, 'POST')).toBe(2)
    expect(server.isRefreshTokenActive(storedOrFail().refreshToken)).toBe(true)
  })
})

// ---- 6. rotation ------------------------------------------------------------------------

describe('refresh and rotation', () => {
  test('refresh rotates: the new refresh token is stored and active, the old one dead; expiry on stderr, nothing on stdout', async () => {
    const server = await loggedIn()
    const before = storedOrFail()

    const result = await run(['refresh'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toMatch(/expires/)
    expect(result.stderr).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z/)
    expect(server.count(REFRESH)).toBe(1)

    const after = storedOrFail()
    expect(after.refreshToken).not.toBe(before.refreshToken)
    expect(after.accessToken).not.toBe(before.accessToken)
    expect(server.isRefreshTokenActive(before.refreshToken)).toBe(false)
    // Reuse detection would have revoked the whole family, the new token included.
    expect(server.isRefreshTokenActive(after.refreshToken)).toBe(true)
    expect(server.isAccessTokenActive(after.accessToken)).toBe(true)
    expect(result.stderr).not.toContain(after.accessToken)
    expect(result.stderr).not.toContain(after.refreshToken)

    // A second rotation keeps the chain alive.
    expect((await run(['refresh', '-q'])).code).toBe(0)
    const third = storedOrFail()
    expect(server.isRefreshTokenActive(after.refreshToken)).toBe(false)
    expect(server.isRefreshTokenActive(third.refreshToken)).toBe(true)
  })

  test('refresh --print prints the new token on stdout', async () => {
    const server = await loggedIn()
    const result = await run(['refresh', '--print'])
    expect(result.code).toBe(0)
    const record = storedOrFail()
    expect(result.stdout).toBe(`${record.accessToken}\n`)
    expect(server.isAccessTokenActive(record.accessToken)).toBe(true)
  })

  test('a server that does not rotate: the old refresh token is kept and keeps working', async () => {
    const server = await loggedIn({ rotate: false })
    const before = storedOrFail()
    expect((await run(['refresh'])).code).toBe(0)
    const after = storedOrFail()
    expect(after.refreshToken).toBe(before.refreshToken)
    expect(after.accessToken).not.toBe(before.accessToken)
    expect(server.isRefreshTokenActive(after.refreshToken)).toBe(true)
  })
})

// ---- 7. revoke --------------------------------------------------------------------------

describe('revoke', () => {
  test.each(['revoke', 'logout'])('%s revokes at the server and deletes the entry', async (command) => {
    const server = await loggedIn()
    const { refreshToken } = storedOrFail()
    const result = await run([command])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    const revokes = server.requests.filter((r) => r.path === REVOKE && r.method === 'POST')
    expect(revokes).toHaveLength(1)
    expect(revokes[0]!.body).toEqual({ refreshToken })
    expect(server.isRefreshTokenActive(refreshToken)).toBe(false)
    expect(stored()).toBeUndefined()
    expect(fs.readFileSync(credentialsFile(), 'utf8')).not.toContain(refreshToken)

    // Now a login is needed.
    expect((await run(['token'])).code).toBe(3)
  })

  test('revoke --all revokes every env', async () => {
    const first = await loggedIn()
    const second = await serve()
    await addEnv('staging', second)
    await login('staging')
    const tokens = [storedOrFail('dev').refreshToken, storedOrFail('staging').refreshToken]

    const result = await run(['revoke', '--all'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(first.count(REVOKE, 'POST')).toBe(1)
    expect(second.count(REVOKE, 'POST')).toBe(1)
    expect(first.isRefreshTokenActive(tokens[0]!)).toBe(false)
    expect(second.isRefreshTokenActive(tokens[1]!)).toBe(false)
    expect(stored('dev')).toBeUndefined()
    expect(stored('staging')).toBeUndefined()
  })

  test('server down (closed): deleted locally all the same, a warning, exit 5', async () => {
    const server = await loggedIn()
    await server.close()
    const result = await run(['revoke'], TIMEOUT_ENV)
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toMatch(/warning/i)
    expect(result.stderr).not.toMatch(STACK_LINE)
    expect(stored()).toBeUndefined()
  })

  test('server drops the revoke request: deleted locally, a warning, exit 5', async () => {
    const server = await loggedIn()
    server.setFailure('drop', { path: REVOKE })
    const result = await run(['revoke'])
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toMatch(/warning/i)
    expect(result.stderr).not.toMatch(STACK_LINE)
    expect(server.count(REVOKE)).toBe(1)
    expect(stored()).toBeUndefined()
  })

  test('a server without revocation (404): a warning, deleted locally, exit 0', async () => {
    const server = await loggedIn({ revokeSupported: false })
    const result = await run(['revoke'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toMatch(/warning/i)
    expect(server.count(REVOKE)).toBe(1)
    expect(stored()).toBeUndefined()
  })
})

// ---- 8. status --------------------------------------------------------------------------

describe('status', () => {
  test('logged in: exit 0 with the user and the expiry, no token, no request', async () => {
    const server = await loggedIn()
    const before = server.requests.length
    const record = storedOrFail()
    const result = await run(['status'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('alice')
    expect(result.stdout).toMatch(/expires/)
    expect(result.stdout + result.stderr).not.toContain(record.accessToken)
    expect(result.stdout + result.stderr).not.toContain(record.refreshToken)
    expect(server.requests.length).toBe(before)
  })

  test('--json: exactly {env, loggedIn, user, protocol, store, accessExpiresAt, refreshExpiresAt}', async () => {
    const server = await loggedIn()
    const before = server.requests.length
    const record = storedOrFail()
    const result = await run(['status', '--json'])
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as Record<string, unknown>
    expect(Object.keys(json).sort()).toEqual([
      'accessExpiresAt',
      'env',
      'loggedIn',
      'protocol',
      'refreshExpiresAt',
      'store',
      'user',
    ])
    expect(json).toMatchObject({ env: 'dev', loggedIn: true, user: 'alice', protocol: 'api', store: 'file' })
    expect(json.accessExpiresAt).toMatch(ISO_Z)
    expect(json.refreshExpiresAt).toMatch(ISO_Z)
    expect(Math.abs(Date.parse(json.accessExpiresAt as string) - record.accessExpiresAt)).toBeLessThan(1000)
    expect(Math.abs(Date.parse(json.refreshExpiresAt as string) - record.refreshExpiresAt!)).toBeLessThan(1000)
    expect(server.requests.length).toBe(before)
  })

  test('not logged in: exit 3 and loggedIn false, times null', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['status', '--json'])
    expect(result.code).toBe(3)
    expect(JSON.parse(result.stdout)).toEqual({
      env: 'dev',
      loggedIn: false,
      user: null,
      protocol: 'api',
      store: 'file',
      accessExpiresAt: null,
      refreshExpiresAt: null,
    })
    const human = await run(['status'])
    expect(human.code).toBe(3)
    expect(human.stderr).toContain('tokenctl login -e dev')
    expect(server.requests).toHaveLength(0)
  })

  test('not logged in but TOKENCTL_USERNAME/PASSWORD set: exit 0, no request', async () => {
    const server = await serve()
    await addEnv('dev', server)
    const result = await run(['status', '--json'], { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ env: 'dev', loggedIn: false })
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
    expect(server.requests).toHaveLength(0)
  })

  test('--all --json is an array of every env; exit 3 while one needs a login', async () => {
    const server = await loggedIn()
    await addEnv('staging', server)
    const before = server.requests.length
    const result = await run(['status', '--all', '--json'])
    expect(result.code).toBe(3)
    const json = JSON.parse(result.stdout) as Array<Record<string, unknown>>
    expect(Array.isArray(json)).toBe(true)
    expect(json.map((s) => [s.env, s.loggedIn])).toEqual([
      ['dev', true],
      ['staging', false],
    ])
    await login('staging')
    const all = await run(['status', '--all', '--json'])
    expect(all.code).toBe(0)
    expect((JSON.parse(all.stdout) as Array<Record<string, unknown>>).every((s) => s.loggedIn === true)).toBe(true)
    expect(server.requests.length).toBe(before + 1) // the login of staging, and nothing from status
  })

  test('status does not refresh an expiring token', async () => {
    const server = await loggedIn({ accessTtl: 60 })
    const before = fs.readFileSync(credentialsFile())
    const result = await run(['status', '--json'])
    expect(result.code).toBe(0)
    expect(server.count(REFRESH)).toBe(0)
    expect(fs.readFileSync(credentialsFile())).toEqual(before)
  })
})

// ---- 9. env remove ----------------------------------------------------------------------

describe('env remove', () => {
  test('revokes at the server and deletes the secrets and the env', async () => {
    const server = await loggedIn()
    const { refreshToken } = storedOrFail()
    const result = await run(['env', 'remove', 'dev'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(server.count(REVOKE, 'POST')).toBe(1)
    expect(server.isRefreshTokenActive(refreshToken)).toBe(false)
    expect(stored()).toBeUndefined()
    expect(
      (JSON.parse(fs.readFileSync(fixture.sandbox.configFile, 'utf8')) as { envs: Record<string, unknown> }).envs,
    ).toEqual({})
  })

  test('--no-revoke deletes the secrets without a request', async () => {
    const server = await loggedIn()
    const { refreshToken } = storedOrFail()
    const before = server.requests.length
    const result = await run(['env', 'remove', 'dev', '--no-revoke'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(server.requests.length).toBe(before)
    expect(stored()).toBeUndefined()
    expect(server.isRefreshTokenActive(refreshToken)).toBe(true)
  })
})

// ---- 10. lifetimes ----------------------------------------------------------------------

describe('token lifetimes', () => {
  test('without expiresIn, the JWT exp claims set the access and refresh expiry', async () => {
    const server = await loggedIn({ sendExpiresIn: false, accessTtl: 900, refreshTtl: 86_400 })
    const result = await run(['token', '-f', 'json'])
    expect(result.code).toBe(0)
    expect(server.count(REFRESH)).toBe(0)
    const json = JSON.parse(result.stdout) as { token: string; expiresAt: string; expiresIn: number }
    const exp = jwtExp(json.token)
    expect(Date.parse(json.expiresAt)).toBe(exp * 1000)
    expect(json.expiresIn).toBeGreaterThan(850)
    expect(json.expiresIn).toBeLessThanOrEqual(900)
    const record = storedOrFail()
    expect(record.accessExpiresAt).toBe(exp * 1000)
    expect(record.refreshExpiresAt).toBe(jwtExp(record.refreshToken) * 1000)
  })

  test('opaque tokens without expiresIn: 30 minutes for the access token, 7 days for the refresh token', async () => {
    await loggedIn({ sendExpiresIn: false, tokenFormat: 'opaque' })
    const result = await run(['token', '-f', 'json'])
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout) as { expiresIn: number }
    expect(json.expiresIn).toBeGreaterThan(1700)
    expect(json.expiresIn).toBeLessThanOrEqual(1800)
    const record = storedOrFail()
    const week = 7 * 86_400_000
    expect(record.refreshExpiresAt! - record.accessExpiresAt).toBeGreaterThan(week - 1_800_000 - 60_000)
    expect(record.refreshExpiresAt! - record.accessExpiresAt).toBeLessThan(week)
  })

  test('a top-level token response (no "data" wrapper) works the same', async () => {
    const server = await loggedIn({ wrapInData: false })
    const result = await run(['token', '--force-refresh'])
    expect(result.code).toBe(0)
    expect(server.isAccessTokenActive(result.stdout.trim())).toBe(true)
  })
})

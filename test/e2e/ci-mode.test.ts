/**
 * Credentials from variables (docs/design.md#credentials-from-variables) with the CI cache (docs/design.md#where-things-are-kept): a CI job that has nothing but
 * TOKENCTL_URL, TOKENCTL_USERNAME, TOKENCTL_PASSWORD and CI=true — no config file, no
 * keychain (the D-Bus address leads nowhere), no store chosen. The built CLI against the
 * real test server.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, Sandbox } from '../support/cli.js'

const USER = 'ci-bot'
const PASSWORD = 'pw-ci-Zq8vR2-never-on-disk'
const LOGIN = '/auth/token'
const REFRESH = '/auth/token/refresh'

let sandbox: Sandbox
let server: ApiServer

beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer({ users: { [USER]: PASSWORD } })
})

afterEach(async () => {
  await server.close()
  sandbox.cleanup()
})

/** Exactly what a CI job has; `extra` adds (or with undefined, drops) variables. */
function ci(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { TOKENCTL_URL: server.url, TOKENCTL_USERNAME: USER, TOKENCTL_PASSWORD: PASSWORD, CI: 'true', ...extra }
}

const cacheDir = () => path.join(sandbox.runtimeDir, 'tokenctl')
const cacheFile = () => path.join(cacheDir(), 'credentials.json')
const mode = (file: string) => fs.statSync(file).mode & 0o777

/**
 * The record of the env made from variables. It is kept under the env's name and a hash of
 * what it was issued for (`default~1a2b3c4d`), so that jobs for other servers or users
 * sharing the runner never share it: one entry per name here.
 */
function cached(env = 'default'): { accessToken?: string; refreshToken?: string } | undefined {
  const envs = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')).envs as Record<
    string,
    { accessToken?: string; refreshToken?: string }
  >
  const keys = Object.keys(envs).filter((key) => new RegExp(`^${env}~[0-9a-f]{8}$`).test(key))
  expect(keys.length).toBeLessThanOrEqual(1)
  return keys[0] === undefined ? undefined : envs[keys[0]]
}

/** What tokenctl sent: every POST (the test's own GETs to /api/me left out). */
const posts = () => server.requests.filter((r) => r.method === 'POST')

async function isValidAtServer(token: string): Promise<boolean> {
  const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  return response.status === 200
}

function expectToken(result: RunResult): string {
  expect(result).toMatchObject({ code: 0, signal: null })
  expect(result.stdout).toMatch(/^[A-Za-z0-9._~+/-]+=*\n$/)
  return result.stdout.trimEnd()
}

describe('CI: an env and credentials from variables alone', () => {
  test('token logs in once, is served from the cache after, and a rejected refresh falls back to a login', async () => {
    expect(fs.existsSync(sandbox.configDir)).toBe(false)

    const first = await sandbox.run(['token'], { env: ci() })
    const token = expectToken(first)
    expect(await isValidAtServer(token)).toBe(true)
    expect(server.count(LOGIN)).toBe(1)
    expect(posts()[0]!.body).toEqual({ username: USER, password: PASSWORD })

    const second = await sandbox.run(['token'], { env: ci() })
    expect(expectToken(second)).toBe(token)
    expect(server.count(LOGIN)).toBe(1)
    expect(posts()).toHaveLength(1)

    // The server forgets every session: the refresh is rejected, the variables log in again.
    const before = cached()!
    server.revokeAll()
    const forced = await sandbox.run(['token', '--force-refresh'], { env: ci() })
    const fresh = expectToken(forced)
    expect(fresh).not.toBe(token)
    expect(await isValidAtServer(fresh)).toBe(true)
    expect(posts().map((r) => r.path)).toEqual([LOGIN, REFRESH, LOGIN])
    expect(posts()[1]!.body).toEqual({ refreshToken: before.refreshToken })
    const after = cached()!
    expect(after.accessToken).toBe(fresh)
    expect(after.refreshToken).not.toBe(before.refreshToken)
    expect(server.isRefreshTokenActive(after.refreshToken!)).toBe(true)

    // The password went to the server and nowhere else: no output, no file at all.
    for (const result of [first, second, forced]) {
      expect(result.stdout + result.stderr).not.toContain(PASSWORD)
    }
    expect(sandbox.files().length).toBeGreaterThan(0)
    expect(sandbox.filesContaining(PASSWORD)).toEqual([])
    // No config was needed, and none was written.
    expect(fs.existsSync(sandbox.configFile)).toBe(false)
  })

  test('tokens are cached in $XDG_RUNTIME_DIR/tokenctl/credentials.json, 0600 in a 0700 dir', async () => {
    const token = expectToken(await sandbox.run(['token'], { env: ci() }))
    expect(mode(cacheDir())).toBe(0o700)
    expect(mode(cacheFile())).toBe(0o600)
    const record = cached()!
    expect(record.accessToken).toBe(token)
    expect(server.isRefreshTokenActive(record.refreshToken!)).toBe(true)
  })

  test('TOKENCTL_ENV names the env made from variables', async () => {
    const status = await sandbox.run(['status', '--json'], { env: ci({ TOKENCTL_ENV: 'ci' }) })
    expect(status).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(status.stdout)).toMatchObject({ env: 'ci', loggedIn: false, protocol: 'api' })

    const token = expectToken(await sandbox.run(['token'], { env: ci({ TOKENCTL_ENV: 'ci' }) }))
    expect(cached('ci')?.accessToken).toBe(token)
    expect(cached('default')).toBeUndefined()

    const after = await sandbox.run(['status', '--json'], { env: ci({ TOKENCTL_ENV: 'ci' }) })
    expect(after).toMatchObject({ code: 0 })
    expect(JSON.parse(after.stdout)).toMatchObject({ env: 'ci', loggedIn: true, user: USER, protocol: 'api' })
    expect(after.stdout).not.toContain(token)
  })

  test.each([
    ['with credentials', {}],
    // docs/design.md#output-and-exit-codes: 2 (bad URL) is reported before 6 (no keychain), even when nothing could be stored.
    ['without credentials', { TOKENCTL_USERNAME: undefined, TOKENCTL_PASSWORD: undefined }],
  ])('http:// to a host that is not loopback is refused with exit 2 (%s)', async (_name, extra) => {
    const result = await sandbox.run(['token'], { env: ci({ TOKENCTL_URL: 'http://auth.example.com', ...extra }) })
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('http://')
    expect(result.stderr).toContain('TOKENCTL_URL')
    expect(fs.existsSync(cacheFile())).toBe(false)
  })

  test('without credentials and without a keychain, token exits 6 naming --store file', async () => {
    const result = await sandbox.run(['token'], {
      env: ci({ TOKENCTL_USERNAME: undefined, TOKENCTL_PASSWORD: undefined }),
    })
    expect(result).toMatchObject({ code: 6, stdout: '' })
    expect(result.stderr).toContain('--store file')
    expect(server.requests).toHaveLength(0)
  })

  test('with TOKENCTL_STORE=file and no login, token exits 3', async () => {
    const result = await sandbox.run(['token'], {
      env: ci({ TOKENCTL_USERNAME: undefined, TOKENCTL_PASSWORD: undefined, TOKENCTL_STORE: 'file' }),
    })
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toContain('tokenctl login')
    expect(server.requests).toHaveLength(0)
  })

  test('login --no-input without credentials and without a keychain exits 6 naming --store file, and never hangs', async () => {
    // The store is checked before anything else of a login: 6 comes before 3.
    const result = await sandbox.run(['login', '--no-input'], {
      env: ci({ TOKENCTL_USERNAME: undefined, TOKENCTL_PASSWORD: undefined }),
      timeoutMs: 30_000,
    })
    expect(result).toMatchObject({ code: 6, signal: null, stdout: '' })
    expect(result.stderr).toContain('--store file')
    expect(server.requests).toHaveLength(0)
  })

  test('login --no-input without credentials, with a store, exits 3, names what to set, and never hangs', async () => {
    const result = await sandbox.run(['login', '--no-input'], {
      env: ci({ TOKENCTL_USERNAME: undefined, TOKENCTL_PASSWORD: undefined, TOKENCTL_STORE: 'file' }),
      timeoutMs: 30_000,
    })
    expect(result).toMatchObject({ code: 3, signal: null, stdout: '' })
    expect(result.stderr).toContain('TOKENCTL_USERNAME')
    expect(server.requests).toHaveLength(0)
  })

  test('TOKENCTL_DEFAULT_PASSWORD wins over TOKENCTL_PASSWORD for the env named default', async () => {
    // The general variable alone, wrong: the server rejects it (4).
    const wrong = await sandbox.run(['token'], { env: ci({ TOKENCTL_PASSWORD: 'not-the-password' }) })
    expect(wrong).toMatchObject({ code: 4, stdout: '' })
    expect(posts().at(-1)!.body).toEqual({ username: USER, password: 'not-the-password' })

    // The per-env variable, right, beside the same wrong general one: it is the one used.
    const right = await sandbox.run(['token'], {
      env: ci({ TOKENCTL_PASSWORD: 'not-the-password', TOKENCTL_DEFAULT_PASSWORD: PASSWORD }),
    })
    expect(await isValidAtServer(expectToken(right))).toBe(true)
    expect(posts().at(-1)!.body).toEqual({ username: USER, password: PASSWORD })

    // Per-env USERNAME too, for an env with another name.
    const other = await sandbox.run(['token'], {
      env: ci({ TOKENCTL_ENV: 'prod-eu', TOKENCTL_USERNAME: 'nobody', TOKENCTL_PROD_EU_USERNAME: USER }),
    })
    expect(await isValidAtServer(expectToken(other))).toBe(true)
    expect(posts().at(-1)!.body).toEqual({ username: USER, password: PASSWORD })
    expect(sandbox.filesContaining(PASSWORD)).toEqual([])
    expect(sandbox.filesContaining('not-the-password')).toEqual([])
  })
})

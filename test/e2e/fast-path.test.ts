import fs from 'node:fs'
import path from 'node:path'

import { storeKey } from '../../src/base/binding.js'
import { envFromVariables } from '../../src/core/env-select.js'
import { type ApiServer, startApiServer } from '../support/api-server.js'
import { Sandbox } from '../support/cli.js'
import { expectSameOutput, rejectedLogin, runBothWays } from '../support/fast-path.js'

// The fast path of bin/run.js and the full oclif path must print the same bytes for the
// same state. Each case runs both ways (TOKENCTL_FAST_PATH=0 forces the full path), and a
// marker file says which path really served it.
let server: ApiServer
let sandbox: Sandbox
const HOUR = 3_600_000
const PLAIN_HTTP_ISSUER = {
  TOKENCTL_ENV: 'ci-http',
  TOKENCTL_ISSUER: 'http://sso.example.com',
  TOKENCTL_CLIENT_ID: 'cli',
}

beforeAll(async () => {
  server = await startApiServer()
  sandbox = new Sandbox()
  await sandbox.run([
    'env',
    'add',
    'prod',
    '--url',
    server.url,
    '--git-host',
    'git.example.com',
    '--username',
    'alice',
    '--use',
  ])
  await sandbox.run(['env', 'add', 'staging', '--url', server.url])
  const record = (expiresIn: number) => ({
    accessToken: 'cached-token.A_b~c+d/e=',
    accessExpiresAt: Date.now() + expiresIn,
    refreshToken: 'r',
    refreshExpiresAt: Date.now() + 24 * HOUR,
    user: 'alice',
  })
  // A token cached for an env made from variables whose issuer is plain http to another host.
  const plainIssuer = storeKey(envFromVariables(PLAIN_HTTP_ISSUER)!, PLAIN_HTTP_ISSUER)
  fs.writeFileSync(
    path.join(sandbox.configDir, 'credentials.json'),
    JSON.stringify({ version: 1, envs: { prod: record(HOUR), staging: record(HOUR), [plainIssuer]: record(HOUR) } }),
    { mode: 0o600 },
  )
  fs.mkdirSync(path.join(sandbox.runtimeDir, 'tokenctl', 'access'), { recursive: true, mode: 0o700 })
  fs.writeFileSync(
    path.join(sandbox.runtimeDir, 'tokenctl', 'access', 'prod.json'),
    JSON.stringify({ accessToken: 'keychain-cached', accessExpiresAt: Date.now() + HOUR, user: 'alice' }),
    { mode: 0o600 },
  )
})
afterAll(async () => {
  await server.close()
  sandbox.cleanup()
})

const both = (args: string[], env: Record<string, string | undefined> = {}, input = '') =>
  runBothWays(sandbox, args, env, { input })

const served = [
  ['token', [], { TOKENCTL_STORE: 'file' }],
  ['-f header', ['-f', 'header'], { TOKENCTL_STORE: 'file' }],
  ['--format=json', ['--format=json'], { TOKENCTL_STORE: 'file' }],
  ['-f env --var API_TOKEN', ['-f', 'env', '--var', 'API_TOKEN'], { TOKENCTL_STORE: 'file' }],
  ['-f curl -q', ['-f', 'curl', '-q'], { TOKENCTL_STORE: 'file' }],
  ['-e staging --min-ttl 10m', ['-e', 'staging', '--min-ttl', '10m'], { TOKENCTL_STORE: 'file' }],
  ['TOKENCTL_ENV=staging --store file', ['--store', 'file'], { TOKENCTL_ENV: 'staging' }],
  ['keychain store: the access cache', [], {}],
] as const

test.each(served)('token %s: served by the fast path, the same bytes as the full path', async (_name, args, env) => {
  const { fast, full } = await both(['token', ...args], env)
  expect(fast.path).toBe('fast')
  expectSameOutput(fast.stdout, full.stdout)
  expect({ ...fast, stdout: '', path: '' }).toEqual({ ...full, stdout: '', path: '' })
  expect(fast.code).toBe(0)
})

const declined = [
  ['an unknown env', ['-e', 'nope'], { TOKENCTL_STORE: 'file' }],
  ['a bad --min-ttl', ['--min-ttl', 'soon'], { TOKENCTL_STORE: 'file' }],
  ['a bad format', ['-f', 'yaml'], { TOKENCTL_STORE: 'file' }],
  ['a repeated flag', ['-e', 'prod', '-e', 'prod'], { TOKENCTL_STORE: 'file' }],
  ['--help', ['--help'], { TOKENCTL_STORE: 'file' }],
  [
    'a plain-http TOKENCTL_URL',
    [],
    { TOKENCTL_STORE: 'file', TOKENCTL_CONFIG_DIR: '/nonexistent', TOKENCTL_URL: 'http://api.example.com' },
  ],
  ['a bad TOKENCTL_STORE', [], { TOKENCTL_STORE: 'floppy' }],
] as const

test.each(declined)('token with %s: left to the full path, which says why', async (_name, args, env) => {
  const { fast, full } = await both(['token', ...args], env)
  expect(fast.path).toBe('full')
  expect(fast).toEqual(full)
})

test('a plain-http TOKENCTL_ISSUER with a token cached for it: refused by both paths alike (exit 2), the token not printed', async () => {
  const { fast, full } = await both(['token'], { TOKENCTL_STORE: 'file', ...PLAIN_HTTP_ISSUER })
  expect(fast.path).toBe('full')
  expect(fast).toEqual(full)
  expect({ code: fast.code, stdout: fast.stdout }).toEqual({ code: 2, stdout: '' })
  expect(fast.stderr).toContain('TOKENCTL_ISSUER uses plain http:// to sso.example.com')
})

test('a token that does not outlive --min-ttl is left to the full path (which refreshes)', async () => {
  const before = server.count('/auth/token/refresh')
  const { fast } = await both(['token', '-e', 'staging', '--min-ttl', '2h'], { TOKENCTL_STORE: 'file' })
  expect(fast.path).toBe('full')
  expect(server.count('/auth/token/refresh')).toBeGreaterThan(before)
})

const gitRequests = [
  ['our host', 'protocol=https\nhost=git.example.com\n\n', 'fast'],
  ['the authtype capability', 'capability[]=authtype\nprotocol=https\nhost=git.example.com\n\n', 'fast'],
  ['our user', 'protocol=https\nhost=git.example.com\nusername=alice\n\n', 'fast'],
  ['another host', 'protocol=https\nhost=elsewhere.example.com\n\n', 'full'],
  ['another user', 'protocol=https\nhost=git.example.com\nusername=bob\n\n', 'full'],
  ['garbage', 'garbage\u0000\n', 'full'],
] as const

test.each(gitRequests)('git-credential get for %s: the same answer both ways', async (_name, input, expected) => {
  const { fast, full } = await both(['git-credential', 'get'], { TOKENCTL_STORE: 'file' }, input)
  expect(fast.path).toBe(expected)
  expect({ ...fast, path: '' }).toEqual({ ...full, path: '' })
})

// docs/design.md#audit-log: after 3 rejections for an env within 15 minutes every command for it warns. The
// fast path leaves that to the full path (one wording, one colour rule), unless -q has
// silenced the warning anyway; both ways print the same bytes.
describe('the failed-attempts warning', () => {
  const rejected = rejectedLogin
  const stateWith = (lines: string) => {
    const home = fs.mkdtempSync(path.join(sandbox.dir, 'state-'))
    fs.mkdirSync(path.join(home, 'tokenctl'), { mode: 0o700 })
    fs.writeFileSync(path.join(home, 'tokenctl', 'audit.log'), lines, { mode: 0o600 })
    return home
  }
  const WARNING = /^Warning: 3 failed logins for prod in the last 15 minutes\./

  test.each([
    ['token', ['token'], ''],
    ['token -f header', ['token', '-f', 'header'], ''],
    ['git-credential get', ['git-credential', 'get'], 'protocol=https\nhost=git.example.com\n\n'],
  ])('%s for an env with 3 recent rejections: the full path serves it and warns', async (_name, args, input) => {
    const state = stateWith(rejected('prod', 10) + rejected('prod', 5) + rejected('prod'))
    const { fast, full } = await both([...args], { TOKENCTL_STORE: 'file', XDG_STATE_HOME: state }, input)
    expect(fast.path).toBe('full')
    expect(fast.code).toBe(0)
    expect(fast.stderr).toMatch(WARNING)
    expectSameOutput(fast.stdout, full.stdout)
    expect({ ...fast, stdout: '' }).toEqual({ ...full, stdout: '' })
  })

  test.each([
    ['-q silences the warning', ['-q'], rejected('prod', 10) + rejected('prod', 5) + rejected('prod'), {}],
    ['the rejections are for another env', [], rejected('staging') + rejected('staging') + rejected('staging'), {}],
    ['two rejections only', [], rejected('prod') + rejected('prod'), {}],
    [
      'the first of three is older than 15 minutes',
      [],
      rejected('prod', 16) + rejected('prod', 5) + rejected('prod'),
      {},
    ],
    ['TOKENCTL_AUDIT=off', [], rejected('prod') + rejected('prod') + rejected('prod'), { TOKENCTL_AUDIT: 'off' }],
  ])('token when %s: still the fast path, no warning, the same bytes', async (_name, args, lines, env) => {
    const { fast, full } = await both(['token', ...args], {
      TOKENCTL_STORE: 'file',
      XDG_STATE_HOME: stateWith(lines),
      ...env,
    })
    expect(fast.path).toBe('fast')
    expect(fast).toMatchObject({ code: 0, stderr: '' })
    expect(full.stderr).toBe('')
    expectSameOutput(fast.stdout, full.stdout)
  })
})

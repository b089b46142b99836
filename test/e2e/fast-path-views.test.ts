/**
 * `status` and `env list` by the fast path of bin/run.js and by the full oclif path: every
 * case runs both ways (runBothWays), stdout, stderr and exit code must be the same, and
 * the marker says which path served it. The file store, the real gnome-keyring, and a
 * keychain that cannot be reached.
 */
import fs from 'node:fs'
import path from 'node:path'

import { startApiServer } from '../support/api-server.js'
import { Sandbox } from '../support/cli.js'
import { rejectedLogin, runBothWays } from '../support/fast-path.js'
import { keyringTest, startHangingBus, useKeyring } from '../support/keyring.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/**
 * An expiry `ms` from now (in the past when negative), put in the middle of a minute: the
 * relative times of `status` ("in 1h30m", "expired 30m ago") then read the same for the
 * next 44 s, and each test writes its state just before its two runs.
 */
const fromNow = (ms: number) => Date.now() + ms + (ms >= 0 ? 45_000 : -15_000)

let sandbox: Sandbox
/** config.json as `env add` wrote it: prod (current, user alice), staging, dev. */
let baseConfig: { current?: string; envs: Record<string, unknown> }

beforeAll(async () => {
  sandbox = new Sandbox()
  for (const args of [
    ['prod', '--url', 'https://api.example.com', '--username', 'alice', '--use'],
    ['staging', '--url', 'https://staging.example.com'],
    ['dev', '--url', 'https://dev.example.com'],
  ]) {
    expect(await sandbox.run(['env', 'add', ...args])).toMatchObject({ code: 0, stdout: '' })
  }
  baseConfig = JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8'))
})
afterAll(() => sandbox.cleanup())

/** prod: both tokens live. staging: the access token expired, the refresh token live. dev: no entry. */
const loggedIn = (): Record<string, unknown> => ({
  prod: {
    accessToken: 'access-prod-Xq7',
    accessExpiresAt: fromNow(90 * MINUTE),
    refreshToken: 'refresh-prod-Xq7',
    refreshExpiresAt: fromNow(20 * HOUR + 30 * MINUTE),
    user: 'alice',
  },
  staging: {
    accessToken: 'access-staging-Xq7',
    accessExpiresAt: fromNow(-30 * MINUTE),
    refreshToken: 'refresh-staging-Xq7',
    refreshExpiresAt: fromNow(2 * HOUR + 15 * MINUTE),
    user: 'bob',
  },
})

interface State {
  /** The file store's entries (credentials.json); none when undefined. */
  records?: Record<string, unknown>
  /** No config file at all: a person who has not added an env yet. */
  noConfig?: boolean
  /** The raw text of config.json instead of the base config. */
  configText?: string
  /** The audit log's lines (docs/design.md#audit-log). */
  audit?: string
}

/** A config dir (and state dir) of its own for one test; the variables that point at it. */
function state({ records, noConfig, configText, audit }: State = {}): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(sandbox.dir, 'state-'))
  const config = path.join(dir, 'config')
  const stateHome = path.join(dir, 'state')
  fs.mkdirSync(config, { mode: 0o700 })
  fs.mkdirSync(path.join(stateHome, 'tokenctl'), { recursive: true, mode: 0o700 })
  if (!noConfig)
    fs.writeFileSync(path.join(config, 'config.json'), configText ?? JSON.stringify(baseConfig), { mode: 0o600 })
  if (records)
    fs.writeFileSync(path.join(config, 'credentials.json'), JSON.stringify({ version: 1, envs: records }), {
      mode: 0o600,
    })
  if (audit) fs.writeFileSync(path.join(stateHome, 'tokenctl', 'audit.log'), audit, { mode: 0o600 })
  return { TOKENCTL_CONFIG_DIR: config, XDG_STATE_HOME: stateHome }
}

const FILE = { TOKENCTL_STORE: 'file' }
const threeRejections = () => rejectedLogin('prod', 10) + rejectedLogin('prod', 5) + rejectedLogin('prod')
const corruptStaging = () => ({
  ...loggedIn(),
  staging: { refreshToken: 'refresh-staging-Xq7', refreshExpiresAt: 'tomorrow', user: 'bob' },
})
const CORRUPT_WARNING =
  /^Warning: The entry of "staging" in \S+credentials\.json cannot be used \(refreshExpiresAt is not a time\)\.\n/
const FAILURES_WARNING = /^Warning: 3 failed logins for prod in the last 15 minutes\. /
const NO_ENVS = 'No envs yet. Add one: tokenctl env add NAME --url URL\n'
const table = (...lines: string[]) => `${lines.join('\n')}\n`

interface Case {
  name: string
  args: string[]
  env: () => Record<string, string | undefined>
  code: number
  stdout: RegExp | string
  stderr: RegExp | string
}

const served: Case[] = [
  {
    name: 'status',
    args: ['status'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout:
      /^prod\n {2}logged in: {6}yes, as alice\n {2}access token: {3}expires in 1h30m \(\S+Z\)\n {2}refresh token: {2}expires in 20h30m \(\S+Z\)\n {2}protocol: {7}api {2}https:\/\/api\.example\.com\n {2}store: {10}plain file \S+credentials\.json \(not the OS keychain\)\n$/,
    stderr: '',
  },
  {
    name: 'status --json',
    args: ['status', '--json'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout:
      /^\{\n {2}"env": "prod",\n {2}"loggedIn": true,\n {2}"user": "alice",\n {2}"protocol": "api",\n {2}"store": "file",\n {2}"accessExpiresAt": "[\dT:-]+Z",\n {2}"refreshExpiresAt": "[\dT:-]+Z"\n\}\n$/,
    stderr: '',
  },
  {
    name: 'status --all (dev is not logged in: exit 3)',
    args: ['status', '--all'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 3,
    stdout:
      /^dev\n {2}logged in: {6}no\n[^]*\n\nprod\n {2}logged in: {6}yes, as alice\n[^]*\n\nstaging\n {2}logged in: {6}yes, as bob\n {2}access token: {3}expired 30m ago/,
    stderr: 'Run: tokenctl login -e dev\n',
  },
  {
    name: 'status --all --json',
    args: ['status', '--all', '--json'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 3,
    stdout:
      /^\[\n {2}\{\n {4}"env": "dev",\n {4}"loggedIn": false,\n {4}"user": null,[^]*"env": "prod"[^]*"env": "staging",\n {4}"loggedIn": true,\n {4}"user": "bob",[^]*\]\n$/,
    stderr: '',
  },
  {
    name: 'status --all with every env logged in (dev: a refresh token without an expiry)',
    args: ['status', '--all'],
    env: () => ({ ...FILE, ...state({ records: { ...loggedIn(), dev: { refreshToken: 'refresh-dev-Xq7' } } }) }),
    code: 0,
    stdout: /^dev\n {2}logged in: {6}yes\n {2}access token: {3}-\n {2}refresh token: {2}-\n/,
    stderr: '',
  },
  {
    name: 'status -e staging (access token expired, refresh token live)',
    args: ['status', '-e', 'staging'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout:
      /^staging\n {2}logged in: {6}yes, as bob\n {2}access token: {3}expired 30m ago \(\S+Z\)\n {2}refresh token: {2}expires in 2h15m \(\S+Z\)\n/,
    stderr: '',
  },
  {
    name: 'TOKENCTL_ENV=staging status --json',
    args: ['status', '--json'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }), TOKENCTL_ENV: 'staging' }),
    code: 0,
    stdout: /^\{\n {2}"env": "staging",\n {2}"loggedIn": true,\n {2}"user": "bob",/,
    stderr: '',
  },
  {
    name: 'status -q --store file',
    args: ['status', '-q', '--store', 'file'],
    env: () => state({ records: loggedIn() }),
    code: 0,
    stdout: /^prod\n {2}logged in: {6}yes, as alice\n/,
    stderr: '',
  },
  {
    name: 'status -e dev (not logged in: exit 3 and the login to run)',
    args: ['status', '-e', 'dev'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 3,
    stdout: /^dev\n {2}logged in: {6}no\n {2}access token: {3}-\n {2}refresh token: {2}-\n/,
    stderr: 'Run: tokenctl login -e dev\n',
  },
  {
    name: 'status -e dev --json (exit 3, nothing on stderr)',
    args: ['status', '-e', 'dev', '--json'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 3,
    stdout:
      /^\{\n {2}"env": "dev",\n {2}"loggedIn": false,\n {2}"user": null,[^]*"accessExpiresAt": null,\n {2}"refreshExpiresAt": null\n\}\n$/,
    stderr: '',
  },
  {
    name: 'status -e dev -q (exit 3, -q silences the login line)',
    args: ['status', '-e', 'dev', '-q'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 3,
    stdout: /^dev\n/,
    stderr: '',
  },
  {
    name: 'status -e dev with TOKENCTL_USERNAME/TOKENCTL_PASSWORD (exit 0)',
    args: ['status', '-e', 'dev'],
    env: () => ({
      ...FILE,
      ...state({ records: loggedIn() }),
      TOKENCTL_USERNAME: 'carol',
      TOKENCTL_PASSWORD: 'pw-from-ci-Xq7',
    }),
    code: 0,
    stdout: /^dev\n {2}logged in: {6}no, but TOKENCTL_\* credentials can log in\n/,
    stderr: '',
  },
  {
    name: 'status --all with no envs at all',
    args: ['status', '--all'],
    env: () => ({ ...FILE, ...state({ noConfig: true }) }),
    code: 0,
    stdout: '',
    stderr: NO_ENVS,
  },
  {
    name: 'status --all --json with no envs at all',
    args: ['status', '--all', '--json'],
    env: () => ({ ...FILE, ...state({ noConfig: true }) }),
    code: 0,
    stdout: '[]\n',
    stderr: '',
  },
  {
    name: 'status with an env made from TOKENCTL_URL alone',
    args: ['status'],
    env: () => ({ ...FILE, ...state({ noConfig: true }), TOKENCTL_URL: 'https://ci.example.com' }),
    code: 3,
    stdout: /^default\n {2}logged in: {6}no\n[^]* {2}protocol: {7}api {2}https:\/\/ci\.example\.com\n/,
    stderr: 'Run: tokenctl login -e default\n',
  },
  {
    name: 'status -e staging with a corrupt entry (a warning, exit 3)',
    args: ['status', '-e', 'staging'],
    env: () => ({ ...FILE, ...state({ records: corruptStaging() }) }),
    code: 3,
    stdout: /^staging\n {2}logged in: {6}no\n/,
    stderr: new RegExp(`${CORRUPT_WARNING.source}Run: tokenctl login -e staging\\n$`),
  },
  {
    name: 'status --all --json with a corrupt entry',
    args: ['status', '--all', '--json'],
    env: () => ({ ...FILE, ...state({ records: corruptStaging() }) }),
    code: 3,
    stdout: /"env": "staging",\n {4}"loggedIn": false,/,
    stderr: new RegExp(`${CORRUPT_WARNING.source}$`),
  },
  {
    name: 'status -e staging with a corrupt entry and FORCE_COLOR=1 (a yellow Warning:)',
    args: ['status', '-e', 'staging'],
    env: () => ({ ...FILE, ...state({ records: corruptStaging() }), FORCE_COLOR: '1' }),
    code: 3,
    stdout: /^staging\n/,
    // eslint-disable-next-line no-control-regex
    stderr: /^\u001b\[33mWarning:\u001b\[39m The entry of "staging"/,
  },
  {
    name: 'status for an env with 3 recent failed logins: the warning',
    args: ['status'],
    env: () => ({ ...FILE, ...state({ records: loggedIn(), audit: threeRejections() }) }),
    code: 0,
    stdout: /^prod\n {2}logged in: {6}yes, as alice\n/,
    stderr: new RegExp(`${FAILURES_WARNING.source}.*details: tokenctl audit -e prod --since 15m\\n$`),
  },
  {
    name: 'status --all for an env with 3 recent failed logins',
    args: ['status', '--all'],
    env: () => ({ ...FILE, ...state({ records: loggedIn(), audit: threeRejections() }) }),
    code: 3,
    stdout: /^dev\n/,
    stderr: new RegExp(`${FAILURES_WARNING.source}.*\\nRun: tokenctl login -e dev\\n$`),
  },
  {
    name: 'status -q for an env with 3 recent failed logins (-q silences the warning)',
    args: ['status', '-q'],
    env: () => ({ ...FILE, ...state({ records: loggedIn(), audit: threeRejections() }) }),
    code: 0,
    stdout: /^prod\n/,
    stderr: '',
  },
  {
    name: 'env list',
    args: ['env', 'list'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout: table(
      '   NAME     PROTOCOL  URL                          USER   LOGGED IN',
      '   dev      api       https://dev.example.com      -      no',
      '*  prod     api       https://api.example.com      alice  yes',
      '   staging  api       https://staging.example.com  bob    yes',
    ),
    stderr: '',
  },
  {
    name: 'env list --json',
    args: ['env', 'list', '--json'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout: `${JSON.stringify(
      [
        { name: 'dev', current: false, protocol: 'api', url: 'https://dev.example.com', user: null, loggedIn: false },
        { name: 'prod', current: true, protocol: 'api', url: 'https://api.example.com', user: 'alice', loggedIn: true },
        {
          name: 'staging',
          current: false,
          protocol: 'api',
          url: 'https://staging.example.com',
          user: 'bob',
          loggedIn: true,
        },
      ],
      null,
      2,
    )}\n`,
    stderr: '',
  },
  {
    name: 'env list --names',
    args: ['env', 'list', '--names'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
    code: 0,
    stdout: 'dev\nprod\nstaging\n',
    stderr: '',
  },
  {
    name: 'env list -q --store file',
    args: ['env', 'list', '-q', '--store', 'file'],
    env: () => state({ records: loggedIn() }),
    code: 0,
    stdout: /^ {3}NAME {5}PROTOCOL/,
    stderr: '',
  },
  {
    name: 'env list with a corrupt entry (that env is not logged in)',
    args: ['env', 'list'],
    env: () => ({ ...FILE, ...state({ records: corruptStaging() }) }),
    code: 0,
    stdout: /^ {3}staging {2}api {7}https:\/\/staging\.example\.com {2}- {6}no$/m,
    stderr: '',
  },
  {
    name: 'env list with FORCE_COLOR=1 (the current name in bold)',
    args: ['env', 'list'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }), FORCE_COLOR: '1' }),
    code: 0,
    // Aligned by what shows: prod is padded as if it were not bold (NO_COLOR's layout below).
    // eslint-disable-next-line no-control-regex
    stdout: /^\* {2}\u001b\[1mprod\u001b\[22m {5}api/m,
    stderr: '',
  },
  {
    name: 'env list with NO_COLOR=1',
    args: ['env', 'list'],
    env: () => ({ ...FILE, ...state({ records: loggedIn() }), NO_COLOR: '1' }),
    code: 0,
    // eslint-disable-next-line no-control-regex
    stdout: /^(?![^]*\u001b)[^]*^\* {2}prod {5}api/m,
    stderr: '',
  },
  {
    name: 'env list with no envs',
    args: ['env', 'list'],
    env: () => ({ ...FILE, ...state({ noConfig: true }) }),
    code: 0,
    stdout: '',
    stderr: NO_ENVS,
  },
  {
    name: 'env list --json with no envs',
    args: ['env', 'list', '--json'],
    env: () => ({ ...FILE, ...state({ noConfig: true }) }),
    code: 0,
    stdout: '[]\n',
    stderr: '',
  },
  {
    name: 'env list --names with no envs',
    args: ['env', 'list', '--names'],
    env: () => ({ ...FILE, ...state({ noConfig: true }) }),
    code: 0,
    stdout: '',
    stderr: '',
  },
]

const expectText = (actual: string, expected: RegExp | string) =>
  typeof expected === 'string' ? expect(actual).toBe(expected) : expect(actual).toMatch(expected)

describe('the file store', () => {
  test.each(served)(
    '$name: served by the fast path, the same bytes as the full path',
    async ({ args, env, code, stdout, stderr }) => {
      const { fast, full } = await runBothWays(sandbox, args, env())
      expect(fast).toEqual({ ...full, path: 'fast' })
      expect(fast.code).toBe(code)
      expectText(fast.stdout, stdout)
      expectText(fast.stderr, stderr)
    },
  )

  const declined: Case[] = [
    {
      name: 'status --help',
      args: ['status', '--help'],
      env: () => ({ ...FILE, ...state() }),
      code: 0,
      stdout: /^Show who is logged in/,
      stderr: '',
    },
    {
      name: 'status --bogus',
      args: ['status', '--bogus'],
      env: () => ({ ...FILE, ...state() }),
      code: 2,
      stdout: '',
      stderr: /Nonexistent flag: --bogus/,
    },
    {
      name: 'status extra-arg',
      args: ['status', 'extra-arg'],
      env: () => ({ ...FILE, ...state() }),
      code: 2,
      stdout: '',
      stderr: /command status:extra-arg not found/,
    },
    {
      name: 'status --json --json',
      args: ['status', '--json', '--json'],
      env: () => ({ ...FILE, ...state({ records: loggedIn() }) }),
      code: 0,
      stdout: /^\{\n {2}"env": "prod"/,
      stderr: '',
    },
    {
      name: 'status -e nope (unknown env)',
      args: ['status', '-e', 'nope'],
      env: () => ({ ...FILE, ...state() }),
      code: 2,
      stdout: '',
      stderr: /^Error: .*"nope"/,
    },
    {
      name: 'status with no envs at all',
      args: ['status'],
      env: () => ({ ...FILE, ...state({ noConfig: true }) }),
      code: 2,
      stdout: '',
      stderr: /^Error: No env is set up yet\.\n/,
    },
    {
      name: 'status with a corrupt config file',
      args: ['status'],
      env: () => ({ ...FILE, ...state({ configText: '{"envs": ' }) }),
      code: 2,
      stdout: '',
      stderr: /^Error: The config file \S+ is corrupt: it is not valid JSON\./,
    },
    {
      name: 'status with a plain-http TOKENCTL_URL',
      args: ['status'],
      env: () => ({ ...FILE, ...state({ noConfig: true }), TOKENCTL_URL: 'http://api.example.com' }),
      code: 2,
      stdout: '',
      stderr: /^Error: .*TOKENCTL_URL/,
    },
    {
      name: 'TOKENCTL_STORE=floppy status',
      args: ['status'],
      env: () => ({ ...state({ records: loggedIn() }), TOKENCTL_STORE: 'floppy' }),
      code: 2,
      stdout: '',
      stderr: /^Error: TOKENCTL_STORE must be one of keychain, file, not "floppy"\./,
    },
    {
      name: 'TOKENCTL_DEBUG=1 status',
      args: ['status'],
      env: () => ({ ...FILE, ...state({ records: loggedIn() }), TOKENCTL_DEBUG: '1' }),
      code: 0,
      stdout: /^prod\n {2}logged in: {6}yes, as alice\n/,
      stderr: /^tokenctl debug: /,
    },
    {
      name: 'env list --names --json (exclusive flags)',
      args: ['env', 'list', '--names', '--json'],
      env: () => ({ ...FILE, ...state() }),
      code: 2,
      stdout: '',
      stderr: /--json=true cannot also be provided when using --names/,
    },
    {
      name: 'env list --store floppy',
      args: ['env', 'list', '--store', 'floppy'],
      env: () => state(),
      code: 2,
      stdout: '',
      stderr: /Expected --store=floppy to be one of: keychain, file/,
    },
    {
      name: 'env list with a corrupt config file',
      args: ['env', 'list'],
      env: () => ({ ...FILE, ...state({ configText: '[]' }) }),
      code: 2,
      stdout: '',
      stderr: /^Error: The config file \S+ is corrupt/,
    },
  ]

  test.each(declined)(
    '$name: left to the full path, the same bytes both ways',
    async ({ name, args, env, code, stdout, stderr }) => {
      const { fast, full } = await runBothWays(sandbox, args, env())
      // The debug trace times each store call: "(1 ms)" in one run may be "(2 ms)" in the other.
      const untimed = name.startsWith('TOKENCTL_DEBUG')
        ? (text: string) => text.replace(/\(\d+ ms\)/g, '(N ms)')
        : (text: string) => text
      expect({ ...fast, stderr: untimed(fast.stderr) }).toEqual({ ...full, stderr: untimed(full.stderr) })
      expect(fast.path).toBe('full')
      expect(fast.code).toBe(code)
      expectText(fast.stdout, stdout)
      expectText(fast.stderr, stderr)
    },
  )
})

describe('at a terminal (colour because stdout and stderr are TTYs)', () => {
  test.each([
    // eslint-disable-next-line no-control-regex
    ['env list', ['env', 'list'], /\r\n\* {2}\u001b\[1mprod\u001b\[22m +api/],
    [
      'status --all with a corrupt entry',
      ['status', '--all'],
      // eslint-disable-next-line no-control-regex
      /^\u001b\[33mWarning:\u001b\[39m The entry of "staging"[^]*\r\nRun: tokenctl login -e dev; tokenctl login -e staging\r\n$/,
    ],
  ])('%s: served by the fast path, the same bytes as the full path', async (_name, args, screen) => {
    const { fast, full } = await runBothWays(
      sandbox,
      args,
      { ...FILE, ...state({ records: corruptStaging() }) },
      { terminal: true },
    )
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast.stdout).toMatch(screen)
  })
})

const withKeyring = keyringTest('the fast path against gnome-keyring')

describe('the keychain store (a real gnome-keyring)', () => {
  const keyring = useKeyring()
  const PASSWORD = 'wonderland-Xq7-views'

  withKeyring(
    'status and env list after a login into the keychain: served by the fast path, the same bytes',
    async () => {
      // Lifetimes in the middle of a minute, as fromNow does: "in 1h30m" and "in 20h30m" for 44 s after the login.
      const server = await startApiServer({
        users: { alice: PASSWORD },
        accessTtl: 90 * 60 + 45,
        refreshTtl: 20 * 3600 + 30 * 60 + 45,
      })
      try {
        const env = { ...state({ noConfig: true }), ...keyring()!.env }
        expect(await sandbox.run(['env', 'add', 'prod', '--url', server.url, '--use'], { env })).toMatchObject({
          code: 0,
        })
        expect(
          await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'], { env }),
        ).toMatchObject({ code: 0 })
        expect(await sandbox.run(['env', 'add', 'dev', '--url', 'https://dev.example.com'], { env })).toMatchObject({
          code: 0,
        })
        const login = await sandbox.run(['login', '--username', 'alice', '--password-stdin'], {
          env,
          input: `${PASSWORD}\n`,
        })
        expect(login).toMatchObject({ code: 0, stdout: '' })
        // staging's entry written by another program: the keychain is shared.
        const staging = JSON.stringify({
          accessToken: 'access-staging-Xq7',
          accessExpiresAt: fromNow(-30 * MINUTE),
          refreshToken: 'refresh-staging-Xq7',
          refreshExpiresAt: fromNow(2 * HOUR + 15 * MINUTE),
          user: 'bob',
        })
        expect(await keyring()!.storeItem('staging', staging)).toBe(0)
        // dev's entry is not JSON: status warns, env list counts it as no login.
        expect(await keyring()!.storeItem('dev', 'not json')).toBe(0)

        const DEV_WARNING = /^Warning: The keychain entry of "dev" cannot be used \(not JSON\)\.\n/
        const cases: Array<[string[], number, RegExp, RegExp | string]> = [
          [
            ['status'],
            0,
            /^prod\n {2}logged in: {6}yes, as alice\n {2}access token: {3}expires in 1h30m \(\S+Z\)\n {2}refresh token: {2}expires in 20h30m \(\S+Z\)\n[^]* {2}store: {10}OS keychain \(service "tokenctl"\)\n$/,
            '',
          ],
          [
            ['status', '--json'],
            0,
            /^\{\n {2}"env": "prod",\n {2}"loggedIn": true,\n {2}"user": "alice",\n {2}"protocol": "api",\n {2}"store": "keychain",/,
            '',
          ],
          [
            ['status', '-e', 'staging'],
            0,
            /^staging\n {2}logged in: {6}yes, as bob\n {2}access token: {3}expired 30m ago/,
            '',
          ],
          [
            ['status', '-e', 'dev'],
            3,
            /^dev\n {2}logged in: {6}no\n/,
            new RegExp(`${DEV_WARNING.source}Run: tokenctl login -e dev\\n$`),
          ],
          [
            ['status', '--all'],
            3,
            /^dev\n {2}logged in: {6}no\n[^]*\n\nprod\n[^]*\n\nstaging\n/,
            new RegExp(`${DEV_WARNING.source}Run: tokenctl login -e dev\\n$`),
          ],
          [
            ['env', 'list'],
            0,
            /^ {3}dev {6}api {7}https:\/\/dev\.example\.com {6}- {6}no\n\* {2}prod {5}api {7}http:\/\/127\.0\.0\.1:\d+ +alice {2}yes\n {3}staging {2}api {7}https:\/\/staging\.example\.com {2}bob {4}yes\n$/m,
            '',
          ],
          [
            ['env', 'list', '--json'],
            0,
            /"name": "prod",\n {4}"current": true,\n {4}"protocol": "api",\n {4}"url": "http:\/\/127\.0\.0\.1:\d+",\n {4}"user": "alice",\n {4}"loggedIn": true/,
            '',
          ],
        ]
        for (const [args, code, stdout, stderr] of cases) {
          const { fast, full } = await runBothWays(sandbox, args, env)
          expect({ args, ...fast }).toEqual({ args, ...full, path: 'fast' })
          expect(fast.code).toBe(code)
          expect(fast.stdout).toMatch(stdout)
          expectText(fast.stderr, stderr)
        }
      } finally {
        await server.close()
      }
    },
  )
})

describe('a keychain that cannot be reached', () => {
  const NO_BUS = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' }
  const HINT =
    'Unlock or start your keychain (on Linux a Secret Service such as gnome-keyring), or keep tokens in a file with --store file.\n'

  test.each([
    ['status', ['status']],
    ['status --json', ['status', '--json']],
    ['status --all', ['status', '--all']],
    ['status -q (errors still show)', ['status', '-q']],
  ])('%s: exit 6 with the hint, the same both ways', async (_name, args) => {
    const { fast, full } = await runBothWays(sandbox, args, { ...state(), ...NO_BUS })
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast).toMatchObject({ code: 6, stdout: '' })
    expect(fast.stderr).toMatch(/^Error: The keychain cannot be used: .*\n/)
    expect(fast.stderr.endsWith(HINT)).toBe(true)
  })

  // The one error report (src/cli/error-report.ts) in colour: the red "Error:" of both paths alike.
  test('status with FORCE_COLOR=1: a red Error:, exit 6, the same both ways', async () => {
    const { fast, full } = await runBothWays(sandbox, ['status'], { ...state(), ...NO_BUS, FORCE_COLOR: '1' })
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast).toMatchObject({ code: 6, stdout: '' })
    // eslint-disable-next-line no-control-regex
    expect(fast.stderr).toMatch(/^\u001b\[31mError:\u001b\[39m The keychain cannot be used: .*\n/)
    expect(fast.stderr.endsWith(HINT)).toBe(true)
  })

  test('status with the failed-logins warning: the warning, then exit 6, the same both ways', async () => {
    const { fast, full } = await runBothWays(sandbox, ['status'], { ...state({ audit: threeRejections() }), ...NO_BUS })
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast.code).toBe(6)
    expect(fast.stderr).toMatch(new RegExp(`${FAILURES_WARNING.source}.*\\nError: The keychain cannot be used: `))
  })

  test('status with TOKENCTL_USERNAME/TOKENCTL_PASSWORD: no keychain needed (exit 0), the same both ways', async () => {
    const { fast, full } = await runBothWays(sandbox, ['status'], {
      ...state(),
      ...NO_BUS,
      TOKENCTL_USERNAME: 'carol',
      TOKENCTL_PASSWORD: 'pw-from-ci-Xq7',
    })
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast.code).toBe(0)
    expect(fast.stdout).toMatch(/^prod\n {2}logged in: {6}no, but TOKENCTL_\* credentials can log in\n/)
  })

  test.each([
    [
      'env list',
      ['env', 'list'],
      /^ {3}dev {6}api {7}https:\/\/dev\.example\.com {6}- {6}\?\n\* {2}prod {5}api {7}https:\/\/api\.example\.com {6}alice {2}\?\n/m,
    ],
    [
      'env list --json',
      ['env', 'list', '--json'],
      /"name": "prod",\n {4}"current": true,\n {4}"protocol": "api",\n {4}"url": "https:\/\/api\.example\.com",\n {4}"user": "alice",\n {4}"loggedIn": null/,
    ],
  ])('%s: every env with "?" and a warning, exit 0, the same both ways', async (_name, args, stdout) => {
    const { fast, full } = await runBothWays(sandbox, args, { ...state(), ...NO_BUS })
    expect(fast).toEqual({ ...full, path: 'fast' })
    expect(fast.code).toBe(0)
    expect(fast.stdout).toMatch(stdout)
    expect(fast.stderr).toMatch(/^Warning: Login states are unknown: The keychain cannot be used: .*--store file\.\n$/)
  })

  test('status against a keychain that hangs: exit 6 after the timeout, the same both ways', async () => {
    const bus = await startHangingBus()
    try {
      const { fast, full } = await runBothWays(sandbox, ['status'], {
        ...state(),
        DBUS_SESSION_BUS_ADDRESS: bus.address,
      })
      expect(fast).toEqual({ ...full, path: 'fast' })
      expect(fast.code).toBe(6)
      expect(fast.stderr).toMatch(/^Error: The keychain did not answer within 3 s\.\n/)
    } finally {
      await bus.stop()
    }
  })
})

/**
 * The audit log (docs/design.md#audit-log) end to end: the built CLI against the real JSON login API server
 * of test/support, the plain-file store, and the log file itself. No mocks.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer } from '../support/api-server.js'
import { type RunResult } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, startOidcServer } from '../support/oidc-server.js'

interface Entry {
  time: string
  env: string
  event: string
  outcome: 'ok' | 'failure'
  reason?: string
  exitCode?: number
  error?: string
  command?: string
  protocol?: string
  source?: string
  user?: string
  server?: string
  pid: number
}

const PASSWORD = 'wonderland'
const WRONG_PASSWORD = 'not-the-password-42'
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const MiB = 1024 * 1024
// These tests run a dozen CLI processes or more one after the other; on a busy two-core CI
// machine that can take longer than jest's default.
const SLOW = 180_000

const fixture = useFileStoreFixture()
const { serve, run } = fixture

async function addEnv(name: string, server: ApiServer): Promise<void> {
  expect(await run(['env', 'add', name, '--url', server.url])).toMatchObject({ code: 0 })
}

function login(env: string, password = PASSWORD, extra: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run(['login', '-e', env, '--username', 'alice', '--password-stdin'], extra, `${password}\n`)
}

const stateDir = () => path.join(fixture.sandbox.home, '.local', 'state', 'tokenctl')
const logFile = () => path.join(stateDir(), 'audit.log')

function logLines(file = logFile()): Entry[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Entry)
}

async function auditJson(...args: string[]): Promise<Entry[]> {
  const result = await run(['audit', '--json', ...args])
  expect(result).toMatchObject({ code: 0 })
  return JSON.parse(result.stdout) as Entry[]
}

/** A line as tokenctl writes it, for the history a test needs before it starts. */
function line(fields: Partial<Entry> & { env: string }): string {
  return `${JSON.stringify({ time: new Date().toISOString(), event: 'login', outcome: 'ok', pid: 1, ...fields })}\n`
}

function credentials(): { accessToken?: string; refreshToken?: string } | undefined {
  const file = path.join(fixture.sandbox.configDir, 'credentials.json')
  if (!fs.existsSync(file)) return undefined
  return (
    JSON.parse(fs.readFileSync(file, 'utf8')) as {
      envs: Record<string, { accessToken?: string; refreshToken?: string }>
    }
  ).envs.dev
}

// ---- events -----------------------------------------------------------------------------

test(
  'a session (login, refresh, revoke) shows in `audit --json` and the table, with env, outcome, command and pid',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    expect(await login('dev')).toMatchObject({ code: 0 })
    expect(await run(['token', '-e', 'dev', '--force-refresh'])).toMatchObject({ code: 0 })
    expect(await run(['token', '-e', 'dev'])).toMatchObject({ code: 0 }) // a cache hit: not an event
    expect(await run(['revoke', '-e', 'dev'])).toMatchObject({ code: 0, stderr: expect.stringContaining('Revoked') })

    const events = await auditJson()
    expect(events.map((e) => [e.env, e.event, e.outcome, e.command])).toEqual([
      ['dev', 'login', 'ok', 'login'],
      ['dev', 'refresh', 'ok', 'token'],
      ['dev', 'revoke', 'ok', 'revoke'],
    ])
    expect(events[0]).toMatchObject({ user: 'alice', protocol: 'api' })
    expect(events[1]).toMatchObject({ source: 'store' })
    expect(events[2]).toMatchObject({ server: 'revoked' })
    for (const event of events) {
      expect(event.time).toMatch(ISO_MS_Z)
      expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(60_000)
      expect(Number.isInteger(event.pid) && event.pid > 1).toBe(true)
      expect(event.reason).toBeUndefined()
    }
    // Three processes, three pids.
    expect(new Set(events.map((e) => e.pid)).size).toBe(3)
    // What --json prints is what the file holds.
    expect(logLines()).toEqual(events)

    const table = await run(['audit'])
    expect(table).toMatchObject({ code: 0, stderr: '' })
    const rows = table.stdout.trimEnd().split('\n')
    expect(rows[0]).toMatch(/^TIME\s+ENV\s+EVENT\s+OUTCOME\s+COMMAND\s+PID\s+DETAILS$/)
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(1, 6))).toEqual(
      events.map((e) => ['dev', e.event, 'ok', e.command, String(e.pid)]),
    )
    expect(rows[1]).toContain('as alice')
  },
  SLOW,
)

test(
  'failures are recorded with a fixed reason and the exit code, never the server text',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    expect(await login('dev', WRONG_PASSWORD)).toMatchObject({ code: 4 })
    server.failNext('html500', 1, { path: '/auth/token' })
    expect(await login('dev')).toMatchObject({ code: 5 })
    expect(await login('dev')).toMatchObject({ code: 0 })
    server.revokeAll()
    expect(await run(['token', '-e', 'dev', '--force-refresh'])).toMatchObject({ code: 3 })
    server.failNext('drop', 1, { path: '/auth/token/revoke' })
    expect(await login('dev')).toMatchObject({ code: 0 })
    expect(await run(['revoke', '-e', 'dev'])).toMatchObject({ code: 5 })

    const events = await auditJson('-e', 'dev')
    expect(events.map((e) => [e.event, e.outcome, e.reason, e.exitCode, e.error])).toEqual([
      ['login', 'failure', 'credentials rejected', 4, 'CredentialsRejectedError'],
      ['login', 'failure', 'server or network failure', 5, 'ServerError'],
      ['login', 'ok', undefined, undefined, undefined],
      ['refresh', 'failure', 'refresh token rejected', 3, 'RefreshRejectedError'],
      ['login', 'ok', undefined, undefined, undefined],
      ['revoke', 'failure', 'server or network failure', 5, 'ServerError'],
    ])
    // A failed login does not name the user: people type passwords into the user name prompt.
    expect(events[0]!.user).toBeUndefined()
    const bytes = fs.readFileSync(logFile(), 'utf8')
    expect(bytes).not.toMatch(/Invalid username|Internal Server Error|reuse|invalid_grant/i)

    const table = await run(['audit', '-e', 'dev'])
    expect(table.stdout).toContain('credentials rejected (exit 4)')
    expect(table.stdout).toContain('refresh token rejected (exit 3)')
  },
  SLOW,
)

test(
  'no password, refresh token or access token is ever in the log',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    const secrets = new Set<string>([PASSWORD, WRONG_PASSWORD])
    const remember = () => {
      const record = credentials()
      if (record?.accessToken) secrets.add(record.accessToken)
      if (record?.refreshToken) secrets.add(record.refreshToken)
    }
    expect(await login('dev', WRONG_PASSWORD)).toMatchObject({ code: 4 })
    expect(await login('dev')).toMatchObject({ code: 0 })
    remember()
    for (let i = 0; i < 2; i++) {
      expect(await run(['token', '-e', 'dev', '--force-refresh'])).toMatchObject({ code: 0 })
      remember()
    }
    server.failNext('html500', 1, { path: '/auth/token/refresh' })
    expect(await run(['token', '-e', 'dev', '--force-refresh'])).toMatchObject({ code: 5 })
    // A refresh token the server refuses, and a login from variables to fall back on.
    server.revokeAll()
    expect(
      await run(['token', '-e', 'dev', '--force-refresh'], { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD }),
    ).toMatchObject({ code: 0 })
    remember()
    expect(await run(['revoke', '-e', 'dev'])).toMatchObject({ code: 0 })

    expect(secrets.size).toBeGreaterThanOrEqual(8)
    const bytes = fs.readFileSync(logFile())
    expect(logLines().length).toBeGreaterThanOrEqual(7)
    for (const secret of secrets) expect(bytes.includes(secret)).toBe(false)
    // The log is the user's alone.
    expect(fs.statSync(logFile()).mode & 0o777).toBe(0o600)
    expect(fs.statSync(stateDir()).mode & 0o777).toBe(0o700)
  },
  SLOW,
)

test(
  'lines from many processes at once are whole lines, one per event',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    const results = await Promise.all(Array.from({ length: 8 }, () => login('dev', WRONG_PASSWORD)))
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(4))
    const lines = fs.readFileSync(logFile(), 'utf8').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(8)
    const entries = lines.map((text) => JSON.parse(text) as Entry)
    expect(new Set(entries.map((e) => e.pid)).size).toBe(8)
  },
  SLOW,
)

// ---- rotation, off, write failures ------------------------------------------------------

test(
  'at 1 MiB the log is rotated into audit.log.1 (one kept), and `audit` reads both',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 })
    fs.writeFileSync(`${logFile()}.1`, line({ env: 'ancient' }), { mode: 0o600 })
    // History just under the cap: the next line does not fit.
    const old = line({ env: 'old', time: '2020-01-01T00:00:00.000Z' })
    const count = Math.floor((MiB - 100) / old.length)
    const history = old.repeat(count)
    fs.writeFileSync(logFile(), history, { mode: 0o600 })
    expect(MiB - history.length).toBeLessThan(100 + old.length)

    expect(await login('dev')).toMatchObject({ code: 0 })
    expect(fs.readFileSync(`${logFile()}.1`, 'utf8')).toBe(history)
    expect(logLines().map((e) => [e.env, e.event])).toEqual([['dev', 'login']])

    const all = await auditJson()
    expect(all).toHaveLength(count + 1)
    expect(all.some((e) => e.env === 'ancient')).toBe(false)
    expect(all.at(-1)).toMatchObject({ env: 'dev', event: 'login' })
    expect(await auditJson('-e', 'old')).toHaveLength(count)

    // Room left: no rotation.
    expect(await run(['token', '-e', 'dev', '--force-refresh'])).toMatchObject({ code: 0 })
    expect(logLines()).toHaveLength(2)
    expect(fs.statSync(`${logFile()}.1`).size).toBeLessThanOrEqual(MiB)
  },
  SLOW,
)

test(
  'TOKENCTL_AUDIT=off writes nothing, and `audit` says it is off',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    const off = { TOKENCTL_AUDIT: 'off' }
    for (let i = 0; i < 3; i++) expect(await login('dev', WRONG_PASSWORD, off)).toMatchObject({ code: 4 })
    expect(await login('dev', PASSWORD, off)).toMatchObject({ code: 0 })
    expect(await run(['token', '-e', 'dev', '--force-refresh'], off)).toMatchObject({ code: 0 })
    expect(await run(['revoke', '-e', 'dev'], off)).toMatchObject({ code: 0 })
    expect(fs.existsSync(stateDir())).toBe(false)

    const shown = await run(['audit'], off)
    expect(shown).toMatchObject({ code: 0, stdout: '' })
    expect(shown.stderr).toMatch(/TOKENCTL_AUDIT is off/)
    // The control: the same failure with the log on is written.
    expect(await login('dev', WRONG_PASSWORD)).toMatchObject({ code: 4 })
    expect(logLines()).toHaveLength(1)
  },
  SLOW,
)

test('a log that cannot be written warns once and never fails the command', async () => {
  const server = await serve()
  await addEnv('dev', server)
  const blocked = path.join(fixture.sandbox.dir, 'not-a-dir')
  fs.writeFileSync(blocked, '')
  const result = await login('dev', PASSWORD, { XDG_STATE_HOME: blocked })
  expect(result.code).toBe(0)
  expect(result.stderr.match(/Could not write the audit log/g)).toHaveLength(1)
  expect(result.stderr).toMatch(/Logged in to dev/)
  // -q: not a word.
  const quiet = await run(['token', '-e', 'dev', '--force-refresh', '-q'], { XDG_STATE_HOME: blocked })
  expect(quiet).toMatchObject({ code: 0, stderr: '' })
})

test(
  'a FIFO or a symlink at the log path: token (fast path and full) ends and prints the token, a refresh warns once, audit names the path (exit 6)',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    expect(await login('dev')).toMatchObject({ code: 0 })
    const target = path.join(fixture.sandbox.dir, 'elsewhere.log')
    fs.writeFileSync(target, 'not the log\n', { mode: 0o600 })
    const plants: Array<[string, () => void]> = [
      ['a FIFO', () => execFileSync('mkfifo', ['-m', '600', logFile()])],
      ['a symlink', () => fs.symlinkSync(target, logFile())],
    ]
    for (const [what, plant] of plants) {
      fs.rmSync(logFile(), { force: true })
      plant()
      const stored = credentials()!.accessToken
      for (const fast of ['1', '0']) {
        // Without the checks, the FIFO blocks the open for ever: the timeout kills the run.
        const token = await fixture.sandbox.run(['token', '-e', 'dev'], {
          env: { TOKENCTL_STORE: 'file', TOKENCTL_FAST_PATH: fast },
          timeoutMs: 20_000,
        })
        expect({ what, fast, ...token }).toMatchObject({ what, fast, code: 0, stdout: `${stored}\n` })
      }
      const refreshed = await fixture.sandbox.run(['token', '-e', 'dev', '--force-refresh'], {
        env: { TOKENCTL_STORE: 'file' },
        timeoutMs: 20_000,
      })
      expect(refreshed).toMatchObject({ code: 0, stdout: `${credentials()!.accessToken}\n` })
      expect(refreshed.stderr.match(/Could not write the audit log/g)).toHaveLength(1)
      expect(refreshed.stderr).toContain(logFile())
      const audit = await fixture.sandbox.run(['audit'], { env: { TOKENCTL_STORE: 'file' }, timeoutMs: 20_000 })
      expect(audit).toMatchObject({ code: 6, stdout: '' })
      expect(audit.stderr).toContain(logFile())
    }
    expect(fs.readFileSync(target, 'utf8')).toBe('not the log\n')
  },
  SLOW,
)

// ---- reading: empty, --since, -e --------------------------------------------------------

test('an empty log: a clear message on stderr, nothing on stdout; --json prints []', async () => {
  const empty = await run(['audit'])
  expect(empty).toMatchObject({ code: 0, stdout: '' })
  expect(empty.stderr).toContain(`No events in ${logFile()}`)
  expect(await run(['audit', '--json'])).toMatchObject({ code: 0, stdout: '[]\n', stderr: '' })
  expect((await run(['audit', '-q'])).stderr).toBe('')
})

test(
  '--since keeps the newer events (a duration or an ISO time); -e keeps one env, removed ones too',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    await addEnv('staging', server)
    fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 })
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000).toISOString()
    fs.writeFileSync(logFile(), line({ env: 'dev', time: twoDaysAgo }) + line({ env: 'gone', time: twoDaysAgo }), {
      mode: 0o600,
    })
    expect(await login('dev')).toMatchObject({ code: 0 })
    expect(await login('staging')).toMatchObject({ code: 0 })

    expect(await auditJson()).toHaveLength(4)
    expect((await auditJson('--since', '24h')).map((e) => e.env)).toEqual(['dev', 'staging'])
    expect(await auditJson('--since', '3d')).toHaveLength(4)
    expect(await auditJson('--since', '1h30m', '-e', 'dev')).toHaveLength(1)
    expect(await auditJson('--since', new Date(Date.now() - 3_600_000).toISOString())).toHaveLength(2)
    expect(await auditJson('--since', '2020-01-01')).toHaveLength(4)
    expect((await auditJson('-e', 'dev')).map((e) => e.time)).toEqual([twoDaysAgo, expect.any(String)])
    // An env no longer in the config still has its history.
    expect(await auditJson('-e', 'gone')).toHaveLength(1)
    // TOKENCTL_ENV and the current env do not filter: the log is about every env.
    expect(await run(['env', 'use', 'dev'])).toMatchObject({ code: 0 })
    const unfiltered = await run(['audit', '--json'], { TOKENCTL_ENV: 'staging' })
    expect(JSON.parse(unfiltered.stdout)).toHaveLength(4)

    const refused = await Promise.all(
      [
        ['--since', 'yesterday'],
        ['--since', '555x'],
        ['-e', 'Not_Valid'],
      ].map((bad) => run(['audit', ...bad])),
    )
    for (const result of refused) {
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toMatch(/^Error: /)
    }
  },
  SLOW,
)

test('unreadable lines are skipped and counted, and the table shows no control characters', async () => {
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 })
  fs.writeFileSync(
    logFile(),
    `${line({ env: 'dev' })}{"time": "cut sh\nnot json at all\n${line({ env: 'dev\u001b[2J', event: 'login\rX' })}`,
    { mode: 0o600 },
  )
  const result = await run(['audit'])
  expect(result.code).toBe(0)
  expect(result.stderr).toMatch(/2 lines of the audit log could not be read/)
  // eslint-disable-next-line no-control-regex
  expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(3)
})

// ---- the warning ------------------------------------------------------------------------

const WARNING = /Warning: 3 failed logins for dev in the last 15 minutes\. Check the user name and password/

test(
  'three rejected logins within 15 minutes: every command for that env warns, -q silences it, a good login ends it',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    await addEnv('staging', server)
    expect(await login('dev')).toMatchObject({ code: 0 })
    expect(await login('staging')).toMatchObject({ code: 0 })
    const token = (await run(['token', '-e', 'dev'])).stdout

    for (let i = 1; i <= 3; i++) {
      const failed = await login('dev', WRONG_PASSWORD)
      expect(failed.code).toBe(4)
      // The count is made when a command starts: the third failure is not yet behind it.
      expect(failed.stderr).not.toMatch(/Warning/)
      const status = await run(['status', '-e', 'dev'])
      if (i < 3) expect(status.stderr).not.toMatch(/Warning/)
      else expect(status.stderr).toMatch(WARNING)
    }

    // `token` still prints the token alone on stdout, whichever path serves it.
    const warned = await run(['token', '-e', 'dev'])
    expect(warned).toMatchObject({ code: 0, stdout: token })
    expect(warned.stderr).toMatch(WARNING)
    expect(warned.stderr).toContain('tokenctl audit -e dev --since 15m')
    expect((await run(['inspect', '-e', 'dev'])).stderr).toMatch(WARNING)
    expect((await run(['status', '--all'])).stderr).toMatch(WARNING)

    expect(await run(['token', '-e', 'dev', '-q'])).toMatchObject({ code: 0, stdout: token, stderr: '' })
    expect(await run(['status', '-e', 'dev', '--quiet'])).toMatchObject({ stderr: '' })
    // Another env is not concerned.
    expect((await run(['token', '-e', 'staging'])).stderr).toBe('')

    // A login that works means the credentials were put right.
    expect(await login('dev')).toMatchObject({ code: 0 })
    expect((await run(['token', '-e', 'dev'])).stderr).toBe('')
  },
  SLOW,
)

test(
  'network and server failures do not count towards the warning',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    server.failNext('html500', 1, { path: '/auth/token' })
    server.failNext('drop', 1, { path: '/auth/token' })
    server.failNext('status:503', 1, { path: '/auth/token' })
    for (let i = 0; i < 3; i++) expect(await login('dev')).toMatchObject({ code: 5 })
    // And a server that is not there at all.
    const closed = await serve()
    await closed.close()
    await addEnv('down', closed)
    const refused = await Promise.all([login('down'), login('down'), login('down')])
    expect(refused.map((result) => result.code)).toEqual([5, 5, 5])

    const events = await auditJson()
    expect(events.map((e) => [e.env, e.outcome, e.exitCode])).toEqual([
      ...Array(3).fill(['dev', 'failure', 5]),
      ...Array(3).fill(['down', 'failure', 5]),
    ])
    expect((await run(['status', '-e', 'dev'])).stderr).not.toMatch(/Warning/)
    expect((await run(['status', '-e', 'down'])).stderr).not.toMatch(/Warning/)
    // The control: one rejection on top of them is still one, not four.
    expect(await login('dev', WRONG_PASSWORD)).toMatchObject({ code: 4 })
    expect((await run(['status', '-e', 'dev'])).stderr).not.toMatch(/Warning/)
  },
  SLOW,
)

test(
  'refresh tokens the server rejects count too (a stale TOKENCTL_REFRESH_TOKEN in CI)',
  async () => {
    const server = await serve()
    await addEnv('dev', server)
    const stale = { TOKENCTL_REFRESH_TOKEN: 'stale-refresh-token-from-ci' }
    for (let i = 0; i < 3; i++) {
      const result = await run(['token', '-e', 'dev'], stale)
      expect(result).toMatchObject({ code: 3, stdout: '' })
    }
    expect(server.count('/auth/token/refresh')).toBe(3)
    const warned = await run(['token', '-e', 'dev'], stale)
    expect(warned.stderr).toMatch(
      /Warning: 3 rejected refresh tokens for dev in the last 15 minutes\. Check whether the session was revoked/,
    )
    const events = await auditJson()
    expect(events.slice(0, 3).map((e) => [e.event, e.reason, e.source])).toEqual(
      Array(3).fill(['refresh', 'refresh token rejected', 'variables']),
    )
  },
  SLOW,
)

test('rejections older than 15 minutes do not warn', async () => {
  const server = await serve()
  await addEnv('dev', server)
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 })
  const rejected = { env: 'dev', outcome: 'failure' as const, reason: 'credentials rejected', exitCode: 4 }
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString()
  fs.writeFileSync(
    logFile(),
    line({ ...rejected, time: at(20) }) + line({ ...rejected, time: at(16) }) + line({ ...rejected, time: at(1) }),
    { mode: 0o600 },
  )
  expect((await run(['status', '-e', 'dev'])).stderr).not.toMatch(/Warning/)
  fs.appendFileSync(logFile(), line({ ...rejected, time: at(0.5) }) + line({ ...rejected, time: at(0) }))
  expect((await run(['status', '-e', 'dev'])).stderr).toMatch(WARNING)
})

test(
  'oauth2: the flow is recorded, a client secret never is, and rejected client secrets warn about the client',
  async () => {
    const server = await startOidcServer()
    try {
      expect(
        await run([
          'env',
          'add',
          'corp',
          '--issuer',
          server.issuer,
          '--client-id',
          SERVICE_CLIENT_ID,
          '--scope',
          'api:read',
        ]),
      ).toMatchObject({ code: 0 })
      expect(await run(['token', '-e', 'corp'], { TOKENCTL_CLIENT_SECRET: SERVICE_CLIENT_SECRET })).toMatchObject({
        code: 0,
      })
      const wrong = 'wrong-client-secret-0123456789'
      for (let i = 0; i < 3; i++)
        expect(await run(['token', '-e', 'corp', '--force-refresh'], { TOKENCTL_CLIENT_SECRET: wrong })).toMatchObject({
          code: 4,
        })

      const events = await auditJson('-e', 'corp')
      expect(
        events.map((e) => [e.event, e.outcome, e.protocol, (e as { flow?: string }).flow, e.source, e.exitCode]),
      ).toEqual([
        ['login', 'ok', 'oauth2', 'client-credentials', 'variables', undefined],
        ...Array(3).fill(['login', 'failure', 'oauth2', 'client-credentials', 'variables', 4]),
      ])
      const bytes = fs.readFileSync(logFile(), 'utf8')
      for (const secret of [SERVICE_CLIENT_SECRET, wrong, 'client authentication failed'])
        expect(bytes).not.toContain(secret)

      const warned = await run(['status', '-e', 'corp'])
      expect(warned.stderr).toMatch(
        /Warning: 3 failed logins for corp in the last 15 minutes\. Check the client id and secret \(TOKENCTL_CORP_CLIENT_SECRET \/ TOKENCTL_CLIENT_SECRET\)/,
      )
      expect(warned.stderr).not.toMatch(/password/)
    } finally {
      await server.close()
    }
  },
  SLOW,
)

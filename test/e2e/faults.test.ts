/**
 * Faults (docs/design.md#output-and-exit-codes, docs/design.md#where-things-are-kept): a process killed between the server's answer and the
 * save, a disk that refuses the write, a store or cache file others can read, a keychain
 * entry holding garbage, a lock whose holder never lets go. Each ends in a clear message
 * and the documented exit code, and no secret that was good before is lost — as far as
 * the server allows. The built CLI against the real test server, real files, a real
 * gnome-keyring; no mocks.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { STALE_LOCK_MS } from '../../src/base/lock.js'
import { type ApiServer, type ApiServerOptions, startApiServer } from '../support/api-server.js'
import { BIN, type RunResult, runProcess, Sandbox } from '../support/cli.js'
import { keyringTest, useKeyring } from '../support/keyring.js'

const ENV = 'dev'
const PASSWORD = 'faults-Pa55word'
const REFRESH = '/auth/token/refresh'
const LOGIN = '/auth/token'

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
  accessExpiresAt?: number
}

let sandbox: Sandbox
let server: ApiServer
const children: ChildProcess[] = []

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await server?.close()
  // Directories made read-only by a test must be writable again to be removed.
  for (const dir of [sandbox.configDir, sandbox.runtimeDir, path.join(sandbox.runtimeDir, 'tokenctl')])
    if (fs.existsSync(dir)) fs.chmodSync(dir, 0o700)
  sandbox.cleanup()
})

async function setUp(options: ApiServerOptions = {}, extra: Record<string, string> = {}): Promise<void> {
  sandbox = new Sandbox()
  server = await startApiServer({ users: { alice: PASSWORD }, ...options })
  baseEnv = { TOKENCTL_STORE: 'file', ...extra }
  expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
}

let baseEnv: Record<string, string> = {}

function run(args: string[], input?: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return sandbox.run(args, { env: { ...baseEnv, ...env }, input, timeoutMs: 60_000 })
}

async function login(): Promise<StoredRecord> {
  expect(await run(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)).toMatchObject({
    code: 0,
    stdout: '',
  })
  return stored()!
}

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
const keptAsideFile = () => path.join(sandbox.runtimeDir, 'tokenctl', 'credentials.json')

function stored(file = credentialsFile()): StoredRecord | undefined {
  if (!fs.existsSync(file)) return undefined
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { envs: Record<string, StoredRecord> }).envs[ENV]
}

/** The access token runs out, so the next `token` must refresh. */
function expireAccessToken(): void {
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
  data.envs[ENV].accessExpiresAt = Date.now() - 60_000
  fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
}

function expectClearError(result: RunResult, code: number, ...says: string[]): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' })
  for (const text of says) expect(result.stderr).toContain(text)
  expect(result.stderr).not.toMatch(/^\s+at /m)
  expect(result.stderr).not.toContain('unexpected internal error')
}

describe('SIGKILL between the server answer and the save', () => {
  /** `token` run by hand, killed the moment the server has sent its refresh answer. */
  async function killedAfterAnswer(): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'token'], { env: sandbox.env(baseEnv), stdio: 'ignore' })
    children.push(child)
    server.onAnswered(REFRESH, () => child.kill('SIGKILL'))
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, s) => resolve(s)))
    server.onAnswered(REFRESH, undefined)
    expect(signal).toBe('SIGKILL')
    expect(server.count(REFRESH)).toBe(1)
  }

  /** Whatever the kill hit, the store is whole: valid JSON, one of the two records, no temp file left behind. */
  function expectStoreWhole(before: StoredRecord): StoredRecord {
    const after = stored()!
    expect([before.refreshToken, ...server.issued().refresh]).toContain(after.refreshToken)
    return after
  }

  test('a server that does not rotate: the next run refreshes with the same refresh token, nothing lost', async () => {
    await setUp({ rotate: false })
    const before = await login()
    expireAccessToken()
    await killedAfterAnswer()
    expect(expectStoreWhole(before).refreshToken).toBe(before.refreshToken)
    const next = await run(['token'])
    expect(next).toMatchObject({ code: 0, stderr: '' })
    expect(stored()!.refreshToken).toBe(before.refreshToken)
    expect(server.isRefreshTokenActive(before.refreshToken!)).toBe(true)
  })

  test('a server that rotates and detects reuse: the next run says a login is needed (exit 3), and with TOKENCTL_* credentials logs in by itself', async () => {
    await setUp()
    const before = await login()
    expireAccessToken()
    await killedAfterAnswer()
    const after = expectStoreWhole(before)
    if (after.refreshToken !== before.refreshToken) {
      // The kill came after the save: the new token was kept, and it works.
      expect(await run(['token'])).toMatchObject({ code: 0 })
      return
    }
    // The server rotated the token and the answer died with the process: the stored one is
    // dead there (reuse detection), which no client can undo. The message says what to do.
    expect(server.isRefreshTokenActive(before.refreshToken!)).toBe(false)
    const next = await run(['token'])
    expectClearError(next, 3, 'no longer accepts the refresh token of "dev"', 'Run: tokenctl login -e dev')
    // The dead token was dropped, so status tells the truth; the record is still valid JSON.
    expect(stored()!.refreshToken).toBeUndefined()
    const fallback = await run(['token'], undefined, { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
    expect(fallback).toMatchObject({ code: 0, stderr: '' })
    expect(server.isRefreshTokenActive(stored()!.refreshToken!)).toBe(true)
  })
})

/**
 * Directory modes do not stop root. As root, tokenctl runs as `nobody` (setpriv) over a
 * sandbox that nobody owns, so a 0500 dir refuses its writes for real (EACCES).
 */
const IS_ROOT = process.getuid?.() === 0
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => fs.existsSync(file))
const canMakeReadOnly = !IS_ROOT || SETPRIV !== undefined
if (!canMakeReadOnly)
  console.warn('\n!!! SKIPPED: the read-only disk tests run as root and need setpriv (util-linux) to drop to nobody.\n')
const withReadOnlyDirs = canMakeReadOnly ? test : test.skip

function runUnprivileged(
  args: string[],
  input?: string,
  env: Record<string, string | undefined> = {},
): Promise<RunResult> {
  if (!IS_ROOT) return run(args, input, env)
  chownTree(sandbox.dir, 65534)
  return runProcess(SETPRIV!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
    env: sandbox.env({ ...baseEnv, ...env }),
    input,
    timeoutMs: 60_000,
  })
}

function chownTree(dir: string, uid: number): void {
  fs.chownSync(dir, uid, uid)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) chownTree(full, uid)
    else fs.lchownSync(full, uid, uid)
  }
}

describe('a disk that refuses the write (read-only store dir)', () => {
  async function loggedInUnprivileged(
    options: ApiServerOptions = {},
  ): Promise<{ before: StoredRecord; bytes: Buffer }> {
    await setUp(options)
    const result = await runUnprivileged(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)
    expect(result).toMatchObject({ code: 0 })
    expireAccessToken()
    return { before: stored()!, bytes: fs.readFileSync(credentialsFile()) }
  }

  withReadOnlyDirs(
    'a rotated refresh token that cannot be saved is kept aside, the token is printed, and the next run puts it back',
    async () => {
      const { before, bytes } = await loggedInUnprivileged()
      fs.chmodSync(sandbox.configDir, 0o500)
      const refreshed = await runUnprivileged(['token'])
      expect(refreshed.code).toBe(0)
      expect(refreshed.stdout).toMatch(/^\S+\n$/)
      expect(refreshed.stderr).toContain(
        `Could not save the new tokens of "dev": The credentials file ${credentialsFile()} cannot be written`,
      )
      expect(refreshed.stderr).toContain('the previous content is intact')
      expect(refreshed.stderr).toContain(`so the new one is kept in ${keptAsideFile()} (mode 0600)`)
      // The store is as it was; the server has rotated; the new token sits in the 0600 file.
      expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
      expect(server.isRefreshTokenActive(before.refreshToken!)).toBe(false)
      const kept = stored(keptAsideFile())!
      expect(server.isRefreshTokenActive(kept.refreshToken!)).toBe(true)
      expect(fs.statSync(keptAsideFile()).mode & 0o777).toBe(0o600)

      // While the disk still refuses, the kept token is used (no reuse of the dead one).
      const again = await runUnprivileged(['token', '--force-refresh'])
      expect(again.code).toBe(0)
      const keptAgain = stored(keptAsideFile())!
      expect(keptAgain.refreshToken).not.toBe(kept.refreshToken)
      expect(server.isRefreshTokenActive(keptAgain.refreshToken!)).toBe(true)

      // The disk works again: the next run moves the newest record back and refreshes with it.
      fs.chmodSync(sandbox.configDir, 0o700)
      const healed = await runUnprivileged(['token', '--force-refresh'])
      expect(healed).toMatchObject({ code: 0, stderr: '' })
      expect(server.isRefreshTokenActive(stored()!.refreshToken!)).toBe(true)
      expect(stored(keptAsideFile())).toBeUndefined()
      expect(server.count(LOGIN)).toBe(1)
    },
  )

  withReadOnlyDirs(
    'when the fallback cannot be written either: exit 6, nothing printed, the old record intact, and the message says to log in',
    async () => {
      const { bytes } = await loggedInUnprivileged()
      fs.mkdirSync(path.join(sandbox.runtimeDir, 'tokenctl'), { recursive: true, mode: 0o700 })
      fs.chmodSync(sandbox.configDir, 0o500)
      fs.chmodSync(path.join(sandbox.runtimeDir, 'tokenctl'), 0o500)
      const result = await runUnprivileged(['token'])
      expectClearError(
        result,
        6,
        'Could not save the new tokens of "dev"',
        'failed too',
        'The server had already replaced the refresh token, so the stored one no longer works.',
        'then run: tokenctl login -e dev',
      )
      expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
    },
  )

  withReadOnlyDirs('a login that cannot be saved: exit 6, "the previous content is intact", and it is', async () => {
    const { bytes } = await loggedInUnprivileged()
    fs.chmodSync(sandbox.configDir, 0o500)
    const result = await runUnprivileged(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)
    expectClearError(
      result,
      6,
      `The credentials file ${credentialsFile()} cannot be written`,
      'the previous content is intact',
    )
    expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
    // A login is not kept aside: the person can run it again.
    expect(fs.existsSync(keptAsideFile())).toBe(false)
  })

  withReadOnlyDirs('a config that cannot be written: exit 2, the file left as it was', async () => {
    await setUp()
    const before = fs.readFileSync(sandbox.configFile)
    fs.chmodSync(sandbox.configDir, 0o500)
    const result = await runUnprivileged(['env', 'add', 'other', '--url', server.url])
    expectClearError(
      result,
      2,
      `The config file ${sandbox.configFile} cannot be written (EACCES); it was left as it was.`,
    )
    expect(fs.readFileSync(sandbox.configFile)).toEqual(before)
  })
})

describe('a store or cache file others can read', () => {
  test('the file store: exit 6 with the chmod to run, the file untouched; after the chmod it works', async () => {
    await setUp()
    const before = await login()
    expireAccessToken()
    fs.chmodSync(credentialsFile(), 0o644)
    const bytes = fs.readFileSync(credentialsFile())
    const result = await run(['token'])
    expectClearError(result, 6, 'can be read by other users (mode 0644)', `Run: chmod 600 '${credentialsFile()}'`)
    expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
    expect(server.count(REFRESH)).toBe(0)
    fs.chmodSync(credentialsFile(), 0o600)
    expect(await run(['token'])).toMatchObject({ code: 0 })
    expect(stored()!.refreshToken).not.toBe(before.refreshToken)
  })

  test('the access-token cache beside the keychain: refused the same way, by the fast path and the full path alike', async () => {
    await setUp({}, {})
    baseEnv = {}
    const cache = path.join(sandbox.runtimeDir, 'tokenctl', 'access', `${ENV}.json`)
    fs.mkdirSync(path.dirname(cache), { recursive: true, mode: 0o700 })
    fs.writeFileSync(cache, JSON.stringify({ accessToken: 'cached-token', accessExpiresAt: Date.now() + 3_600_000 }), {
      mode: 0o644,
    })
    fs.chmodSync(cache, 0o644)
    for (const env of [{}, { TOKENCTL_FAST_PATH: '0' }]) {
      const result = await run(['token'], undefined, env)
      expectClearError(
        result,
        6,
        `The access-token cache ${cache} can be read by other users (mode 0644)`,
        `Run: chmod 600 '${cache}'`,
      )
    }
  })

  test('the per-user cache of CI (no keychain, TOKENCTL_* credentials): refused the same way', async () => {
    await setUp()
    baseEnv = { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD }
    expect(await run(['token'])).toMatchObject({ code: 0 })
    expect(fs.existsSync(keptAsideFile())).toBe(true)
    fs.chmodSync(keptAsideFile(), 0o644)
    const result = await run(['token', '--force-refresh'])
    expectClearError(
      result,
      6,
      `The credentials file ${keptAsideFile()} can be read by other users (mode 0644)`,
      `Run: chmod 600 '${keptAsideFile()}'`,
    )
  })
})

describe('a store entry holding garbage', () => {
  const withKeyring = keyringTest('a keychain entry holding garbage')
  const keyring = useKeyring()

  withKeyring(
    'a keychain entry that is not a record: exit 3 saying so; TOKENCTL_* credentials log in over it; revoke deletes it',
    async () => {
      await setUp()
      baseEnv = { ...keyring()!.env }
      expect(await keyring()!.storeItem(ENV, 'this is not JSON {')).toBe(0)
      const token = await run(['token'])
      expectClearError(
        token,
        3,
        'The keychain entry of "dev" cannot be used (not JSON).',
        'Run: tokenctl login -e dev (it replaces the entry).',
      )
      const status = await run(['status'])
      expect(status.code).toBe(3)
      expect(status.stderr).toContain('The keychain entry of "dev" cannot be used (not JSON).')

      // A record whose token would break a line is as unusable as garbage.
      const injected = JSON.stringify({
        refreshToken: 'r',
        accessToken: 'evil\nusername=mallory',
        accessExpiresAt: Date.now() + 3_600_000,
      })
      expect(await keyring()!.storeItem(ENV, injected)).toBe(0)
      const git = await run(['git-credential', 'get'], `protocol=http\nhost=${new URL(server.url).host}\n\n`)
      expect(git).toMatchObject({ code: 0, stdout: '' })
      expect(git.stderr).toContain('its access token is not a bearer token')

      const fallback = await run(['token'], undefined, { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD })
      expect(fallback).toMatchObject({ code: 0, stderr: '' })
      const entry = await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', ENV])
      expect(server.isRefreshTokenActive((JSON.parse(entry.stdout) as StoredRecord).refreshToken!)).toBe(true)

      expect(await keyring()!.storeItem(ENV, '[1,2')).toBe(0)
      const revoke = await run(['revoke'])
      expect(revoke.code).toBe(0)
      expect(revoke.stderr).toContain(
        'could not be read, so they could not be revoked at the server; they were deleted here',
      )
      expect((await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', ENV])).code).toBe(1)
    },
  )

  test('a file-store entry that is not a record: exit 3 saying so, the other envs untouched; a credentials file that is not JSON: exit 3, left as it was', async () => {
    await setUp()
    await login()
    const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
    data.envs.other = data.envs[ENV]
    data.envs[ENV] = 'garbage'
    fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
    expectClearError(
      await run(['token']),
      3,
      `The entry of "dev" in ${credentialsFile()} cannot be used (not an object).`,
    )
    // A new login replaces that entry alone.
    await login()
    expect(JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')).envs.other).toEqual(data.envs.other)

    fs.writeFileSync(credentialsFile(), '{"version": 1, "envs": {', { mode: 0o600 })
    expectClearError(
      await run(['token']),
      3,
      'is not readable JSON; tokenctl left it as it was.',
      `mv '${credentialsFile()}'`,
    )
    expectClearError(
      await run(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`),
      3,
      'is not readable JSON',
    )
    expect(fs.readFileSync(credentialsFile(), 'utf8')).toBe('{"version": 1, "envs": {')
  })
})

describe('a lock holder that never lets go', () => {
  /** A live process that is not tokenctl, named as the holder of `file` since `agoMs`, and silent since. */
  function plantLock(file: string, agoMs: number): number {
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    children.push(holder)
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const at = Date.now() - agoMs
    fs.writeFileSync(file, JSON.stringify({ pid: holder.pid, at }), { mode: 0o600 })
    fs.utimesSync(file, at / 1000, at / 1000)
    return holder.pid!
  }

  test('the env lock and the store lock are taken over once the holder has shown no life for the stale time, saying so; nothing is lost', async () => {
    await setUp()
    const before = await login()
    expireAccessToken()
    // Planted so that they go stale some seconds into the run (long enough for the notice at 2 s), not 30 s.
    const envPid = plantLock(path.join(sandbox.runtimeDir, 'tokenctl', 'locks', `${ENV}.lock`), STALE_LOCK_MS - 10_000)
    const storePid = plantLock(path.join(sandbox.configDir, 'credentials.lock'), STALE_LOCK_MS - 1_000)
    const result = await run(['token'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\S+\n$/)
    expect(result.stderr).toContain(`Waiting for another tokenctl (pid ${envPid}) that is working on "dev"`)
    expect(result.stderr).toMatch(
      new RegExp(`Took over the lock of "dev" from pid ${envPid}, which had shown no life for 3\\d s\\.`),
    )
    expect(result.ms).toBeLessThan(STALE_LOCK_MS)
    // The holders live on; their locks are gone, and the rotated token was saved.
    expect(fs.existsSync(path.join(sandbox.runtimeDir, 'tokenctl', 'locks', `${ENV}.lock`))).toBe(false)
    expect(fs.existsSync(path.join(sandbox.configDir, 'credentials.lock'))).toBe(false)
    expect(() => process.kill(storePid, 0)).not.toThrow()
    const after = stored()!
    expect(after.refreshToken).not.toBe(before.refreshToken)
    expect(server.isRefreshTokenActive(after.refreshToken!)).toBe(true)
  })
})

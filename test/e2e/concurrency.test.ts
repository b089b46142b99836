/**
 * Concurrency (docs/design.md#where-things-are-kept): many tokenctl processes at once cause one refresh, a rotated
 * refresh token is never lost, and a lock left by a crashed process is taken over within
 * 30 s. Real processes of the built CLI against the real test server; no mocks.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { acquireLock, STALE_LOCK_MS } from '../../src/base/lock.js'
import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, ROOT, runProcess, Sandbox } from '../support/cli.js'
import { eventually } from '../support/keyring.js'

const REFRESH = '/auth/token/refresh'
const fileStore = { TOKENCTL_STORE: 'file' }

let sandbox: Sandbox
let server: ApiServer
const children: ChildProcess[] = []

beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer()
})

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  await server.close()
  sandbox.cleanup()
})

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
const lockFile = (env: string) => path.join(sandbox.runtimeDir, 'tokenctl', 'locks', `${env}.lock`)

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
  accessExpiresAt?: number
}

function stored(env = 'prod'): StoredRecord {
  return JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')).envs[env]
}

/** Makes the stored access token stale (as if its time had run out), keeping the refresh token. */
function expireStoredAccessToken(env = 'prod'): void {
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
  data.envs[env].accessExpiresAt = Date.now() - 60_000
  fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
}

/** `env add prod` against the test server and a login with the file store. */
async function loggedIn(): Promise<StoredRecord> {
  expect(await sandbox.run(['env', 'add', 'prod', '--url', server.url])).toMatchObject({ code: 0 })
  const login = await sandbox.run(['login', '--username', 'alice', '--password-stdin'], {
    env: fileStore,
    input: 'wonderland\n',
  })
  expect(login).toMatchObject({ code: 0, stdout: '' })
  return stored()
}

async function isValidAtServer(token: string): Promise<boolean> {
  const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  return response.status === 200
}

describe('concurrent token calls', () => {
  test('20 `token` processes on an expired access token make exactly one refresh and print the same token', async () => {
    const login = await loggedIn()
    expireStoredAccessToken()
    const requestsBefore = server.requests.length

    const results = await Promise.all(
      Array.from({ length: 20 }, () => sandbox.run(['token'], { env: fileStore, timeoutMs: 90_000 })),
    )

    for (const result of results) {
      expect(result).toMatchObject({ code: 0, signal: null })
    }
    expect(server.count(REFRESH)).toBe(1)
    // Nothing but that one refresh: no second login, no reuse-triggering replay.
    expect(server.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${REFRESH}`])

    const tokens = new Set(results.map((result) => result.stdout))
    expect(tokens.size).toBe(1)
    const printed = results[0]!.stdout
    expect(printed).toMatch(/^\S+\n$/)
    const token = printed.trimEnd()
    expect(token).not.toBe(login.accessToken)
    expect(await isValidAtServer(token)).toBe(true)

    // The rotated refresh token was kept, and the server never saw the old one again
    // (reuse detection would have revoked the whole family, the new one included).
    const after = stored()
    expect(after.accessToken).toBe(token)
    expect(after.refreshToken).not.toBe(login.refreshToken)
    expect(server.isRefreshTokenActive(after.refreshToken!)).toBe(true)
    expect(server.isRefreshTokenActive(login.refreshToken!)).toBe(false)
    expect(fs.existsSync(lockFile('prod'))).toBe(false)

    // And the next call is served from the store, no request at all.
    const again = await sandbox.run(['token'], { env: fileStore })
    expect(again).toMatchObject({ code: 0, stdout: printed })
    expect(server.count(REFRESH)).toBe(1)
  }, 180_000)

  test('50 `token` processes on an expired access token: one refresh, one token, and the crowd served by the fast path', async () => {
    await loggedIn()
    expireStoredAccessToken()
    const markers = path.join(sandbox.dir, 'which')
    fs.mkdirSync(markers)
    // test/support/which-path.mjs records whether oclif was loaded: 'full', or 'fast' for the fast path of bin/run.js.
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runProcess(process.execPath, ['--import', path.join(ROOT, 'test', 'support', 'which-path.mjs'), BIN, 'token'], {
          env: sandbox.env({ ...fileStore, WHICH_PATH_FILE: path.join(markers, String(i)) }),
          timeoutMs: 120_000,
        }),
      ),
    )
    for (const result of results) {
      expect(result).toMatchObject({ code: 0, signal: null })
      // On a loaded machine the refresh can take longer than 2 s, and whoever waits that long is told why, as the full path would.
      expect(result.stderr).toMatch(
        /^(Warning: Waiting for another tokenctl \(pid \d+\) that is working on "prod"; its lock is taken over if it shows no life for 30 s\.\n)?$/,
      )
    }
    expect(server.count(REFRESH)).toBe(1)
    expect(new Set(results.map((result) => result.stdout)).size).toBe(1)
    expect(results[0]!.stdout.trimEnd()).toBe(stored().accessToken)
    expect(fs.existsSync(lockFile('prod'))).toBe(false)
    // The one that refreshed went through oclif; every other one either found the new token at
    // once or waited for the refresh in the fast path, and was served there.
    const paths = fs.readdirSync(markers).map((name) => fs.readFileSync(path.join(markers, name), 'utf8'))
    expect(paths.sort()).toEqual([...Array(49).fill('fast'), 'full'])
  }, 180_000)

  test.each([
    ['the fast path', undefined, 'fast'],
    ['the full path', '0', 'full'],
  ])(
    'a long wait for another process refreshing: %s says why, then serves what it got',
    async (_name, fastPathSetting, expected) => {
      const login = await loggedIn()
      expireStoredAccessToken()
      const marker = path.join(sandbox.dir, `which-${expected}`)
      const env = sandbox.env({
        ...fileStore,
        TOKENCTL_FAST_PATH: fastPathSetting,
        WHICH_PATH_FILE: marker,
        NODE_OPTIONS: `--import=${path.join(ROOT, 'test', 'support', 'which-path.mjs')}`,
      })
      // This test process is the other one: it holds the env's lock, as a refreshing tokenctl would.
      const release = await acquireLock(path.dirname(lockFile('prod')), 'prod')
      const running = sandbox.start(['token'], { env, timeoutMs: 60_000 })
      try {
        await running.waitForStderr(/Waiting for another tokenctl/, 30_000)
        const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
        Object.assign(data.envs.prod, {
          accessToken: 'got.by.the.other.one',
          accessExpiresAt: Date.now() + 1_800_000,
          obtainedAt: Date.now(),
        })
        fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
      } finally {
        release()
      }
      const result = await running.done
      expect(result).toMatchObject({ code: 0, stdout: 'got.by.the.other.one\n' })
      expect(result.stderr).toBe(
        `Warning: Waiting for another tokenctl (pid ${process.pid}) that is working on "prod"; its lock is taken over if it shows no life for 30 s.\n`,
      )
      expect(fs.readFileSync(marker, 'utf8')).toBe(expected)
      expect(server.count(REFRESH)).toBe(0)
      expect(stored().refreshToken).toBe(login.refreshToken)
    },
    90_000,
  )

  test('a lock the fast path took but the full path never needed is released at exit', async () => {
    expect(await sandbox.run(['env', 'add', 'prod', '--url', server.url])).toMatchObject({ code: 0 })
    // Not logged in: the fast path finds no token, takes the lock and hands it over; the full path says a login is needed.
    const result = await sandbox.run(['token'], { env: fileStore })
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/login/i)
    expect(fs.existsSync(lockFile('prod'))).toBe(false)
    expect(server.requests).toHaveLength(0)
  })

  test('a holder killed with SIGKILL while refreshing does not block the next process for the stale time', async () => {
    const login = await loggedIn()
    expireStoredAccessToken()
    server.setFailure('hang', { path: REFRESH })

    // Spawned by hand: the test needs the handle to kill it. A long request timeout keeps
    // it inside the locked refresh for as long as the test wants.
    const holder = spawn(process.execPath, [BIN, 'token'], {
      env: sandbox.env({ ...fileStore, TOKENCTL_TIMEOUT: '120' }),
      stdio: 'ignore',
    })
    children.push(holder)
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      holder.once('exit', (_code, signal) => resolve(signal)),
    )

    // It holds the lock and its refresh request is at the server (which never answers).
    expect(await eventually(() => fs.existsSync(lockFile('prod')) && server.count(REFRESH) === 1, 30_000)).toBe(true)
    const lock = JSON.parse(fs.readFileSync(lockFile('prod'), 'utf8')) as { pid: number; at: number }
    expect(lock.pid).toBe(holder.pid)

    holder.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    // A crash leaves the lock file behind.
    expect(fs.existsSync(lockFile('prod'))).toBe(true)
    server.setFailure(undefined)

    const next = await sandbox.run(['token'], { env: fileStore, timeoutMs: 60_000 })
    expect(next).toMatchObject({ code: 0, signal: null })
    // Generous: a dead holder is detected at once, far below STALE_LOCK_MS (30 s).
    expect(next.ms).toBeLessThan(20_000)
    const token = next.stdout.trimEnd()
    expect(await isValidAtServer(token)).toBe(true)

    // The hung request was never handled, so the stored refresh token was still good:
    // one more refresh with it, no login, and the rotated token kept.
    expect(server.count(REFRESH)).toBe(2)
    expect(server.count('/auth/token')).toBe(1)
    const after = stored()
    expect(after.accessToken).toBe(token)
    expect(after.refreshToken).not.toBe(login.refreshToken)
    expect(server.isRefreshTokenActive(after.refreshToken!)).toBe(true)
    // The stale lock was taken over and then released by its new holder.
    expect(fs.existsSync(lockFile('prod'))).toBe(false)
  }, 120_000)
})

describe('acquireLock on a lock left behind', () => {
  let dir: string
  const live: ChildProcess[] = []

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-lock-'))
  })
  afterEach(() => {
    for (const child of live.splice(0)) child.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const file = () => path.join(dir, 'prod.lock')
  const writeHolder = (pid: number, at: number) =>
    fs.writeFileSync(file(), JSON.stringify({ pid, at }), { mode: 0o600 })
  const holderOf = () => JSON.parse(fs.readFileSync(file(), 'utf8')) as { pid: number; at: number }

  /** A process that lives until the test ends. */
  function liveProcess(): number {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    live.push(child)
    return child.pid!
  }

  /** The pid of a process that has exited (and been reaped). */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await new Promise((resolve) => child.once('exit', resolve))
    return child.pid!
  }

  /** Resolves to the release function, or to 'pending' if the lock was not had within ms. */
  async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)))
    try {
      return await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  test('a holder pid that no longer exists: taken over at once', async () => {
    writeHolder(await deadPid(), Date.now())
    const started = Date.now()
    const release = await acquireLock(dir, 'prod')
    expect(Date.now() - started).toBeLessThan(STALE_LOCK_MS / 3)
    expect(holderOf().pid).toBe(process.pid)
    release()
    expect(fs.existsSync(file())).toBe(false)
    expect(fs.existsSync(`${file()}.break`)).toBe(false)
  })

  test('a live holder older than staleMs: taken over', async () => {
    writeHolder(liveProcess(), Date.now() - 10_000)
    const release = await within(acquireLock(dir, 'prod', { staleMs: 1000 }), 10_000)
    expect(release).not.toBe('pending')
    expect(holderOf().pid).toBe(process.pid)
    ;(release as () => void)()
    expect(fs.existsSync(file())).toBe(false)
  })

  test('a live, recent holder is waited for, and the lock is had once it lets go', async () => {
    writeHolder(liveProcess(), Date.now())
    let waited = false
    const acquiring = acquireLock(dir, 'prod', { staleMs: 60_000, onWait: () => (waited = true) })
    expect(await within(acquiring, 500)).toBe('pending')
    expect(waited).toBe(true)
    fs.rmSync(file())
    const release = await within(acquiring, 10_000)
    expect(release).not.toBe('pending')
    expect(holderOf().pid).toBe(process.pid)
    ;(release as () => void)()
  })
})

/**
 * Only private places are trusted. Another local user must not be able to plant a record
 * that tokenctl believes or copies into the store, a FIFO that makes it hang, or a symlink
 * it follows; a directory or a file that another user could have read or written is
 * refused with exit 6 naming it; and no wait on a lock goes on for ever. The built CLI as
 * root against the real test server; the other user is uid 65534 (setpriv).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, runProcess, Sandbox } from '../support/cli.js'

const ENV = 'dev'
const USER = 'alice'
const PASSWORD = 'private-dirs-Pa55word'
const REFRESH = '/auth/token/refresh'
/** What the attacker plants: nothing of it may reach stdout, the server or the store. */
const PLANTED_REFRESH = 'planted-refresh-token-0123456789'
const PLANTED_ACCESS = 'planted-access-token-0123456789'
const NOBODY = 65534

const IS_ROOT = process.getuid?.() === 0
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => fs.existsSync(file))
const asAnotherUser = IS_ROOT && SETPRIV !== undefined ? test : test.skip
if (!IS_ROOT || !SETPRIV)
  console.warn('\n!!! SKIPPED: the other-user tests run as root and need setpriv (util-linux) to play uid 65534.\n')

let sandbox: Sandbox
let server: ApiServer
const children: ChildProcess[] = []

beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer({ users: { [USER]: PASSWORD } })
})

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await server.close()
  sandbox.cleanup()
})

/** Each run is bounded; `signal: null` in a result means it ended by itself. */
function run(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
  timeoutMs = 30_000,
): Promise<RunResult> {
  return sandbox.run(args, { env, input, timeoutMs })
}

const fileStore = { TOKENCTL_STORE: 'file' }
const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
const runtime = () => path.join(sandbox.runtimeDir, 'tokenctl')
const lockFile = () => path.join(runtime(), 'locks', `${ENV}.lock`)
const accessCacheFile = () => path.join(runtime(), 'access', `${ENV}.json`)

async function addEnvAndLogIn(env: Record<string, string | undefined> = fileStore): Promise<void> {
  expect(await run(['env', 'add', ENV, '--url', server.url], env)).toMatchObject({ code: 0 })
  expect(await run(['login', '--username', USER, '--password-stdin'], env, `${PASSWORD}\n`)).toMatchObject({ code: 0 })
}

function storedRefreshToken(): string {
  return (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, { refreshToken: string }> })
    .envs[ENV]!.refreshToken
}

/** Ended by itself, with the exit code and message asked for, and nothing on stdout. */
function expectRefused(result: RunResult, code: number, ...says: string[]): void {
  expect({ signal: result.signal, code: result.code, stdout: result.stdout }).toEqual({
    signal: null,
    code,
    stdout: '',
  })
  for (const text of says) expect(result.stderr).toContain(text)
  expect(result.stderr).not.toMatch(/^\s+at /m)
}

/** A record that looks like tokenctl's own, with the attacker's tokens, newer than anything real. */
function plantedRecord(): string {
  const record = {
    refreshToken: PLANTED_REFRESH,
    accessToken: PLANTED_ACCESS,
    accessExpiresAt: Date.now() + 3_600_000,
    obtainedAt: Date.now() + 60_000,
    user: 'mallory',
  }
  return JSON.stringify({ version: 1, envs: { [ENV]: record } })
}

/** Run a shell script as the other user. */
async function asNobody(script: string): Promise<void> {
  const result = await runProcess(
    SETPRIV!,
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-ec', script],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  )
  expect(result).toMatchObject({ code: 0, stderr: '' })
}

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

describe('another local user creates the old fallback runtime dir first (no XDG_RUNTIME_DIR)', () => {
  asAnotherUser(
    'token, git-credential get, status, exec and refresh neither believe, copy nor hang on what was planted there',
    async () => {
      // A temp dir anyone can write, as /tmp is; the attacker must be able to reach it.
      fs.chmodSync(sandbox.dir, 0o755)
      const tmp = path.join(sandbox.dir, 'tmp')
      fs.mkdirSync(tmp)
      fs.chmodSync(tmp, 0o1777)
      const old = path.join(tmp, `tokenctl-${process.getuid!()}`)
      const planted = path.join(tmp, 'planted.json')
      fs.writeFileSync(path.join(sandbox.dir, 'record.json'), plantedRecord())
      // The record where the per-user cache and a kept-aside record would be, a FIFO where the
      // access-token cache and the env's lock would be, and symlinks for the store's lock and
      // a lock breaker. Everything 0777/0666, as an attacker would leave it for us.
      await asNobody(
        [
          `mkdir -m 777 ${q(old)} ${q(`${old}/access`)} ${q(`${old}/locks`)}`,
          `cp ${q(path.join(sandbox.dir, 'record.json'))} ${q(`${old}/credentials.json`)}`,
          `cp ${q(path.join(sandbox.dir, 'record.json'))} ${q(planted)}`,
          `chmod 600 ${q(`${old}/credentials.json`)}`,
          `mkfifo -m 666 ${q(`${old}/access/${ENV}.json`)} ${q(`${old}/locks/${ENV}.lock`)}`,
          `ln -s ${q(planted)} ${q(`${old}/locks/credentials.lock`)}`,
          `ln -s ${q(planted)} ${q(`${old}/locks/${ENV}.lock.break`)}`,
        ].join('\n'),
      )
      const before = snapshot(old)
      const env = { XDG_RUNTIME_DIR: undefined, TMPDIR: tmp, TOKENCTL_USERNAME: USER, TOKENCTL_PASSWORD: PASSWORD }
      expect(await run(['env', 'add', ENV, '--url', server.url], env)).toMatchObject({ code: 0, signal: null })

      // No keychain here and no store chosen: with these credentials the tokens live in the
      // per-user cache file of the runtime dir, beside the access-token cache and the locks.
      const host = new URL(server.url).host
      const results: Array<[string, RunResult]> = []
      for (const [name, args, input] of [
        ['token', ['token'], undefined],
        ['git-credential get', ['git-credential', 'get'], `protocol=http\nhost=${host}\n\n`],
        ['status', ['status'], undefined],
        ['exec', ['exec', '--', 'sh', '-c', 'printf "%s\\n" "$TOKENCTL_TOKEN"'], undefined],
        ['refresh', ['refresh'], undefined],
        ['token after refresh', ['token'], undefined],
      ] as const) {
        results.push([name, await run([...args], env, input)])
      }
      for (const [name, result] of results) {
        expect({ name, signal: result.signal, code: result.code }).toEqual({ name, signal: null, code: 0 })
        expect({ name, out: `${result.stdout}${result.stderr}` }).not.toEqual({
          name,
          out: expect.stringMatching(/planted|mallory/),
        })
      }
      // What was printed is the server's own token, not the planted one.
      const token = results[0]![1].stdout.trimEnd()
      expect(server.isAccessTokenActive(token)).toBe(true)
      expect(results[1]![1].stdout).toContain(`password=${token}\n`)
      expect(results[3]![1].stdout).toBe(`${token}\n`)
      expect(server.isAccessTokenActive(results[5]![1].stdout.trimEnd())).toBe(true)
      // The planted refresh token never went to the server, nor into any file of ours.
      expect(JSON.stringify(server.requests)).not.toContain('planted')
      expect(server.count(REFRESH)).toBe(1)
      const ours = sandbox
        .filesContaining(PLANTED_REFRESH)
        .filter((file) => !file.startsWith(`${tmp}${path.sep}`) && file !== path.join(sandbox.dir, 'record.json'))
      expect(ours).toEqual([])
      // The runtime dir used is the user's own, in the state dir, and private.
      const runtimeDir = path.join(sandbox.home, '.local', 'state', 'tokenctl', 'run')
      expect(fs.lstatSync(runtimeDir).mode & 0o777).toBe(0o700)
      expect(fs.existsSync(path.join(runtimeDir, 'credentials.json'))).toBe(true)
      // And nothing the attacker planted was changed, moved or removed.
      expect(snapshot(old)).toEqual(before)
    },
  )
})

/** Every entry under `dir`: its kind, owner and content (for files), to show nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, name)
    const stat = fs.lstatSync(full)
    const kind = stat.isSymbolicLink()
      ? `link to ${fs.readlinkSync(full)}`
      : stat.isFIFO()
        ? 'fifo'
        : stat.isDirectory()
          ? 'dir'
          : fs.readFileSync(full, 'utf8')
    found[name] = `${stat.uid} ${(stat.mode & 0o7777).toString(8)} ${kind}`
  }
  return found
}

type Plant = 'a FIFO' | 'a symlink' | "another user's file"

/** Puts `what` at `file` (in a dir of our own); a symlink and another user's file lead to a record that would be believed. */
function plant(file: string, what: Plant): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const content = file.endsWith('.lock')
    ? JSON.stringify({ pid: process.pid, at: Date.now() })
    : file.includes(`${path.sep}access${path.sep}`)
      ? JSON.stringify({ accessToken: PLANTED_ACCESS, accessExpiresAt: Date.now() + 3_600_000 })
      : plantedRecord()
  if (what === 'a FIFO') {
    expect(runMkfifo(file)).toBe(0)
  } else if (what === 'a symlink') {
    const target = path.join(sandbox.dir, `target-${path.basename(file)}`)
    fs.writeFileSync(target, content, { mode: 0o600 })
    fs.symlinkSync(target, file)
  } else {
    fs.writeFileSync(file, content, { mode: 0o600 })
    fs.chownSync(file, NOBODY, NOBODY)
  }
}

function runMkfifo(file: string): number | null {
  return spawnSync('mkfifo', ['-m', '600', file]).status
}

/** Another user's file needs root to make (chown). */
const KINDS: Plant[] = IS_ROOT ? ['a FIFO', 'a symlink', "another user's file"] : ['a FIFO', 'a symlink']
const words: Record<Plant, string> = {
  'a FIFO': 'is a FIFO, not a regular file',
  'a symlink': 'is a symbolic link',
  "another user's file": `belongs to another user (uid ${NOBODY})`,
}

describe('something that is not a private file of ours where tokenctl reads one, in a dir of its own: exit 6 naming it, no hang', () => {
  test.each(KINDS)('the access-token cache: %s', async (what) => {
    expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
    plant(accessCacheFile(), what)
    // Both the fast path and the full path look there first, beside the keychain.
    for (const env of [{}, { TOKENCTL_FAST_PATH: '0' }]) {
      expectRefused(await run(['token'], env), 6, `The access-token cache ${accessCacheFile()} ${words[what]}`)
    }
  })

  test.each(KINDS)('the file store: %s', async (what) => {
    expect(await run(['env', 'add', ENV, '--url', server.url], fileStore)).toMatchObject({ code: 0 })
    plant(credentialsFile(), what)
    for (const args of [['token'], ['status'], ['refresh']]) {
      expectRefused(await run(args, fileStore), 6, `The credentials file ${credentialsFile()} ${words[what]}`)
    }
    expect(server.requests).toEqual([])
  })

  test.each(KINDS)("the env's lock: %s", async (what) => {
    await addEnvAndLogIn()
    const before = storedRefreshToken()
    plant(lockFile(), what)
    expectRefused(
      await run(['refresh'], fileStore),
      6,
      `The lock file ${lockFile()} ${words[what]}`,
      `rm '${lockFile()}'`,
    )
    expect(server.count(REFRESH)).toBe(0)
    expect(storedRefreshToken()).toBe(before)
  })
})

describe('every wait on a lock ends', () => {
  test('a directory at the lock path: a clear error at once, naming the lock and how to clear it', async () => {
    await addEnvAndLogIn()
    fs.mkdirSync(path.dirname(lockFile()), { recursive: true, mode: 0o700 })
    fs.mkdirSync(lockFile())
    const result = await run(['refresh'], fileStore, undefined, 60_000)
    expectRefused(result, 6, `The lock file ${lockFile()} is a directory, not a regular file`, `rm -r '${lockFile()}'`)
    expect(server.count(REFRESH)).toBe(0)
  })

  test('a heartbeat from the future, written by a live process: not believed, so the lock is taken over and the refresh done', async () => {
    await addEnvAndLogIn()
    const before = storedRefreshToken()
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    children.push(holder)
    fs.mkdirSync(path.dirname(lockFile()), { recursive: true, mode: 0o700 })
    fs.writeFileSync(lockFile(), JSON.stringify({ pid: holder.pid, at: Date.now() + 3_600_000 }), { mode: 0o600 })
    const result = await run(['refresh'], fileStore, undefined, 60_000)
    expect(result).toMatchObject({ signal: null, code: 0 })
    expect(result.stderr).toContain(
      `Took over the lock of "dev" from pid ${holder.pid}, whose last sign of life was dated`,
    )
    expect(server.count(REFRESH)).toBe(1)
    expect(storedRefreshToken()).not.toBe(before)
    expect(server.isRefreshTokenActive(storedRefreshToken())).toBe(true)
  })
})

describe('a runtime dir that is not private', () => {
  // With the file store, a cached token is served from the store alone (the runtime dir is
  // not used, so it cannot mislead); whatever takes the env's lock checks the runtime dir.
  const uses: Array<[Record<string, string>, string[]]> = [
    [{}, ['token']],
    [{ TOKENCTL_FAST_PATH: '0' }, ['token']],
    [{}, ['refresh']],
    [fileStore, ['refresh']],
  ]

  test('open to group and others: exit 6 naming it with the chmod, for the keychain cache and the file store alike', async () => {
    await addEnvAndLogIn()
    fs.mkdirSync(runtime(), { recursive: true, mode: 0o700 })
    fs.chmodSync(runtime(), 0o755)
    for (const [env, args] of uses) {
      expectRefused(
        await run(args, env),
        6,
        `The runtime dir ${runtime()} is open to other users (mode 0755)`,
        `chmod 700 '${runtime()}'`,
      )
    }
    expect(fs.statSync(runtime()).mode & 0o777).toBe(0o755)
    expect(server.count(REFRESH)).toBe(0)
  })

  test('one that cannot be looked in (XDG_RUNTIME_DIR is a file): exit 6 naming the path, not an internal error', async () => {
    await addEnvAndLogIn()
    fs.rmSync(sandbox.runtimeDir, { recursive: true, force: true })
    fs.writeFileSync(sandbox.runtimeDir, '')
    const kept = path.join(runtime(), 'credentials.json')
    for (const args of [['status'], ['token']]) {
      expectRefused(
        await run(args, { ...fileStore, TOKENCTL_FAST_PATH: '0' }),
        6,
        `${kept} cannot be checked (ENOTDIR)`,
      )
    }
    expect(server.count(REFRESH)).toBe(0)
  })

  asAnotherUser('owned by another uid: exit 6 naming it', async () => {
    await addEnvAndLogIn()
    fs.mkdirSync(runtime(), { recursive: true, mode: 0o700 })
    fs.chownSync(runtime(), NOBODY, NOBODY)
    for (const [env, args] of uses) {
      expectRefused(await run(args, env), 6, `The runtime dir ${runtime()} belongs to another user (uid ${NOBODY})`)
    }
    expect(server.count(REFRESH)).toBe(0)
  })
})

describe('a record kept aside (the rescue of a rotated refresh token)', () => {
  test('one dated in the future never wins over the store: refresh sends the store refresh token, and nothing of the kept one is used', async () => {
    await addEnvAndLogIn()
    const before = storedRefreshToken()
    // Our own file in our own private dir: only its time is wrong.
    const kept = path.join(runtime(), 'credentials.json')
    fs.mkdirSync(runtime(), { recursive: true, mode: 0o700 })
    fs.writeFileSync(kept, plantedRecord(), { mode: 0o600 })
    const status = await run(['status'], fileStore)
    expect(status.code).toBe(0)
    expect(`${status.stdout}${status.stderr}`).not.toMatch(/mallory|planted/)
    const refreshed = await run(['refresh'], fileStore)
    expect(refreshed).toMatchObject({ code: 0, signal: null })
    expect(server.count(REFRESH)).toBe(1)
    expect(JSON.stringify(server.requests)).not.toContain('planted')
    // The store's refresh token was the one used (and rotated); the kept one never moved into the store.
    expect(server.isRefreshTokenActive(before)).toBe(false)
    expect(server.isRefreshTokenActive(storedRefreshToken())).toBe(true)
    expect(fs.readFileSync(credentialsFile(), 'utf8')).not.toContain('planted')
  })
})

describe('a store record dated in the future', () => {
  test('refresh still refreshes: the record does not pass for work another process has just done', async () => {
    await addEnvAndLogIn()
    const before = storedRefreshToken()
    const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as {
      envs: Record<string, { obtainedAt?: number }>
    }
    data.envs[ENV]!.obtainedAt = Date.now() + 3_600_000
    fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
    for (const args of [['refresh'], ['token', '--force-refresh']]) {
      expect(await run(args, fileStore)).toMatchObject({ code: 0, signal: null })
    }
    expect(server.count(REFRESH)).toBe(2)
    expect(server.isRefreshTokenActive(before)).toBe(false)
    expect(server.isRefreshTokenActive(storedRefreshToken())).toBe(true)
  })
})

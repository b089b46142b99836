/**
 * `tokenctl sink` (docs/design.md#long-running-programs): the built CLI in the foreground
 * against the real test server, with real reader processes beside it. It keeps a token file
 * and a header file fresh with one refresh per token lifetime shared with every other
 * tokenctl of the env, replaces them atomically (a reader never sees an empty or partial
 * file), refuses targets others could swap or read (exit 2, nothing written), and gives up
 * with the failure's exit code only once the token in the files has expired.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, type ApiServerOptions, startApiServer } from '../support/api-server.js'
import { BIN, type RunningCli, type RunResult, runProcess, Sandbox } from '../support/cli.js'

const ENV = 'dev'
const PASSWORD = 'sink-Pa55word'
const REFRESH = '/auth/token/refresh'
const HEADER_PREFIX = 'Authorization: Bearer '
/** RFC 6750's b64token: what a whole bearer token looks like. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const OTHER_UID = 12345
const NOBODY = 65534

const IS_ROOT = process.getuid?.() === 0
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => fs.existsSync(file))
/** chown to another uid needs root; running as another user needs setpriv too. */
const asRoot = IS_ROOT ? test : test.skip
const asAnotherUser = IS_ROOT && SETPRIV !== undefined ? test : test.skip
if (!IS_ROOT || !SETPRIV)
  console.warn(
    '\n!!! SKIPPED: the other-user sink tests run as root and need setpriv (util-linux) to play uid 65534.\n',
  )

let sandbox: Sandbox
let server: ApiServer
const children: ChildProcess[] = []

async function setUp(options: ApiServerOptions = {}): Promise<void> {
  sandbox = new Sandbox()
  server = await startApiServer({ users: { alice: PASSWORD }, accessTtl: 20, ...options })
}

async function tearDown(): Promise<void> {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await server.close().catch(() => undefined)
  sandbox.cleanup()
}

const fileStore = { TOKENCTL_STORE: 'file' }

function run(args: string[], input?: string, timeoutMs = 30_000): Promise<RunResult> {
  return sandbox.run(args, { env: fileStore, input, timeoutMs })
}

function startSink(args: string[], timeoutMs = 60_000): RunningCli {
  const sink = sandbox.start(['sink', '-e', ENV, ...args], { env: fileStore, timeoutMs })
  children.push(sink.child)
  return sink
}

async function addEnvAndLogIn(): Promise<void> {
  expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
  expect(await run(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)).toMatchObject({
    code: 0,
    stdout: '',
  })
}

/** A private dir (0700, ours) for the sink's files. */
function outDir(name = 'out', mode = 0o700): string {
  const dir = path.join(sandbox.dir, name)
  fs.mkdirSync(dir, { mode })
  fs.chmodSync(dir, mode)
  return dir
}

const issuedAccess = () => new Set(server.issued().access)

/** No access or refresh token the server ever minted appears in `text`. */
function expectNoToken(text: string): void {
  const { access, refresh } = server.issued()
  for (const token of [...access, ...refresh]) expect(text).not.toContain(token)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits for `condition`, polling; fails the test after `timeoutMs` rather than hanging. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

// ---- reader processes ---------------------------------------------------------------------

/**
 * A reader as a service would be one: a separate process reading the token file and the
 * header file in a tight loop (readFileSync, no pause) until a stop file appears, then
 * printing every distinct content it read and how often.
 */
const READER = `
const fs = require('node:fs')
const [file, header, stopFile] = process.argv.slice(2)
const seen = new Map()
let reads = 0
let missing = 0
const note = (key) => seen.set(key, (seen.get(key) || 0) + 1)
while (!fs.existsSync(stopFile)) {
  for (let i = 0; i < 100; i++) {
    for (const [target, kind] of [[file, 'token'], [header, 'header']]) {
      let text
      try {
        text = fs.readFileSync(target, 'latin1')
      } catch (error) {
        if (error.code !== 'ENOENT') throw error
        missing++
        continue
      }
      reads++
      note(kind + ':' + text)
    }
  }
}
process.stdout.write(JSON.stringify({ reads, missing, seen: [...seen] }))
`

interface ReaderReport {
  reads: number
  missing: number
  /** ["token:<content>" | "header:<content>", times read] */
  seen: Array<[string, number]>
}

interface Reader {
  /** Creates the stop file and resolves with what the reader saw. */
  stop(): Promise<ReaderReport>
}

function startReader(file: string, header: string): Reader {
  const script = path.join(sandbox.dir, 'reader.cjs')
  if (!fs.existsSync(script)) fs.writeFileSync(script, READER)
  const stopFile = path.join(sandbox.dir, 'stop-readers')
  fs.rmSync(stopFile, { force: true })
  const child = spawn(process.execPath, [script, file, header, stopFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    async stop() {
      fs.writeFileSync(stopFile, '')
      const code = await done
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      return JSON.parse(stdout) as ReaderReport
    },
  }
}

/**
 * Every read was a whole token the server issued, in the token file bare and in the header
 * file after the prefix: an empty file, a cut token or a header without its prefix fails
 * here. Gives back the distinct tokens read.
 */
function expectWholeTokens(report: ReaderReport, issued: Set<string>): Set<string> {
  const lengths = new Set([...issued].map((token) => token.length))
  const tokens = new Set<string>()
  const wrong: string[] = []
  for (const [content] of report.seen) {
    const token = content.startsWith('token:')
      ? content.slice('token:'.length)
      : content.startsWith(`header:${HEADER_PREFIX}`)
        ? content.slice(`header:${HEADER_PREFIX}`.length)
        : undefined
    if (token === undefined || !B64TOKEN.test(token) || !lengths.has(token.length) || !issued.has(token))
      wrong.push(JSON.stringify(content.slice(0, 80)))
    else tokens.add(token)
  }
  expect(wrong).toEqual([])
  expect(report.missing).toBe(0)
  return tokens
}

const wroteLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('Wrote a token for "dev"'))

// ---- 1. the acceptance run ----------------------------------------------------------------

describe('a sink kept running for three token lifetimes', () => {
  beforeEach(() => setUp({ accessTtl: 20 }))
  afterEach(tearDown)

  test('one refresh per lifetime shared with readers and a `token` caller; every token whole and issued; SIGTERM exits 0 and leaves the files', async () => {
    const started = Date.now()
    await addEnvAndLogIn()
    const dir = outDir()
    const file = path.join(dir, 'token')
    const header = path.join(dir, 'header')
    const sink = startSink(['--file', file, '--header-file', header, '--min-ttl', '5s'], 120_000)
    await sink.waitForStderr(/^Wrote a token/m)
    const readers = [startReader(file, header), startReader(file, header)]

    // The caller, every ~0.5 s: what it prints, and what the file holds then, is a live token.
    const callerTokens = new Set<string>()
    const notLive: string[] = []
    while (Date.now() - started < 60_000) {
      const printed = await run(['token', '-e', ENV, '--min-ttl', '5s'])
      expect(printed).toMatchObject({ code: 0, stderr: '' })
      const token = printed.stdout.replace(/\n$/, '')
      callerTokens.add(token)
      if (!server.isAccessTokenActive(token)) notLive.push(`caller ${token.length}`)
      // The two files are renamed into place one after the other, so a rewrite can fall
      // between these reads: each must hold a live token, not necessarily the same one.
      const inFile = fs.readFileSync(file, 'utf8')
      if (!server.isAccessTokenActive(inFile)) notLive.push(`file ${inFile.length}`)
      const inHeader = fs.readFileSync(header, 'utf8')
      expect(inHeader.startsWith(HEADER_PREFIX)).toBe(true)
      if (!server.isAccessTokenActive(inHeader.slice(HEADER_PREFIX.length))) notLive.push(`header ${inHeader.length}`)
      await sleep(500)
    }
    const reports = await Promise.all(readers.map((reader) => reader.stop()))
    const elapsed = Date.now() - started

    sink.child.kill('SIGTERM')
    const ended = await sink.done
    expect({ code: ended.code, signal: ended.signal, stdout: ended.stdout }).toEqual({
      code: 0,
      signal: null,
      stdout: '',
    })

    // The login's token, issued at `started`, is renewed 14 s into its life (20 s, less
    // --min-ttl 5 s, less the 1 s lead), and so is each next one; a caller with --min-ttl 5s
    // then always finds one with more than 5 s left and never refreshes itself. So
    // floor(elapsed / 14 s) refreshes, one fewer when HTTP and timers add up across a boundary.
    const expected = Math.floor(elapsed / 14_000)
    const refreshes = server.count(REFRESH)
    expect(refreshes).toBeGreaterThanOrEqual(expected - 1)
    expect(refreshes).toBeLessThanOrEqual(expected)
    expect(refreshes).toBeGreaterThanOrEqual(3)
    // Each refresh was the sink's: it wrote the login's token and then each new one.
    expect(wroteLines(ended.stderr)).toHaveLength(refreshes + 1)

    const issued = issuedAccess()
    expect(notLive).toEqual([])
    for (const token of callerTokens) expect(issued.has(token)).toBe(true)
    for (const report of reports) {
      // Thousands of reads, to make a partial or empty file show up if there ever was one.
      expect(report.reads).toBeGreaterThan(10_000)
      const seen = expectWholeTokens(report, issued)
      expect(seen.size).toBeGreaterThanOrEqual(refreshes)
    }

    // The files stay after a stop, holding the last token; no temp file is left beside them.
    const last = server.issued().access.at(-1)!
    expect(fs.readFileSync(file, 'utf8')).toBe(last)
    expect(fs.readFileSync(header, 'utf8')).toBe(`${HEADER_PREFIX}${last}`)
    expect(fs.readdirSync(dir).sort()).toEqual(['header', 'token'])
    expect(ended.stderr).not.toMatch(/error|could not/i)
    expectNoToken(ended.stderr)
  }, 150_000)
})

// ---- 2. a fast reader, many rewrites ------------------------------------------------------

describe('a reader never sees a partial file', () => {
  beforeEach(() => setUp({ accessTtl: 4 }))
  afterEach(tearDown)

  test('tokens of 4 s with --min-ttl 1s: a rewrite every ~2 s, and every one of many reads is a whole issued token', async () => {
    // A write in place (truncate, then write) would show up here as an empty or cut read.
    await addEnvAndLogIn()
    const dir = outDir()
    const file = path.join(dir, 'token')
    const header = path.join(dir, 'header')
    const sink = startSink(['--file', file, '--header-file', header, '--min-ttl', '1s'])
    await sink.waitForStderr(/^Wrote a token/m)
    const reader = startReader(file, header)
    await waitFor(() => server.count(REFRESH) >= 6, 'six rewrites', 40_000)
    const report = await reader.stop()
    sink.child.kill('SIGTERM')
    const ended = await sink.done
    expect(ended.code).toBe(0)

    expect(report.reads).toBeGreaterThan(10_000)
    const seen = expectWholeTokens(report, issuedAccess())
    // The reader saw the rewrites happen, not one token all along.
    expect(seen.size).toBeGreaterThanOrEqual(5)
    expect(fs.readdirSync(dir).sort()).toEqual(['header', 'token'])
    expectNoToken(ended.stderr)
  }, 60_000)
})

// ---- 3. --once ------------------------------------------------------------------------------

describe('sink --once', () => {
  beforeEach(async () => {
    await setUp()
    await addEnvAndLogIn()
  })
  afterEach(tearDown)

  /** The sink started by sh with `umask 077` (a service manager's usual umask). */
  function onceUnderUmask(args: string[], umask = '077'): Promise<RunResult> {
    const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ')
    return runProcess(
      '/bin/sh',
      ['-c', `umask ${umask}; exec '${process.execPath}' '${BIN}' sink -e ${ENV} --once --min-ttl 5s ${quoted}`],
      { env: sandbox.env(fileStore) },
    )
  }

  test('writes the token and the header line without newline, 0600, exits 0; curl -H @header gets 200', async () => {
    const dir = outDir()
    const file = path.join(dir, 'token')
    const header = path.join(dir, 'header')
    const result = await run(['sink', '-e', ENV, '--once', '--min-ttl', '5s', '--file', file, '--header-file', header])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' })
    expect(result.stderr).toContain(`Wrote a token for "${ENV}", valid until `)
    expectNoToken(result.stderr)

    const token = fs.readFileSync(file, 'utf8')
    expect(token).toMatch(B64TOKEN)
    expect(server.isAccessTokenActive(token)).toBe(true)
    expect(fs.readFileSync(header, 'utf8')).toBe(`${HEADER_PREFIX}${token}`)
    for (const target of [file, header]) expect(fs.statSync(target).mode & 0o7777).toBe(0o600)
    expect(fs.readdirSync(dir).sort()).toEqual(['header', 'token'])

    // A trailing newline in the header file would make curl send a broken header.
    const curl = await runProcess('curl', ['-sS', '-w', '\n%{http_code}', '-H', `@${header}`, `${server.url}/api/me`], {
      env: sandbox.env(),
    })
    expect(curl).toMatchObject({ code: 0, stdout: '{"user":"alice"}\n200' })
  })

  test('with the default --min-ttl (5m) and tokens of 20 s, --once still writes the token it got', async () => {
    // Nothing is renewed after --once, so the "renewed without pause" refusal has no reason to apply.
    const dir = outDir()
    const file = path.join(dir, 'token')
    const result = await run(['sink', '-e', ENV, '--once', '--file', file])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' })
    expect(server.isAccessTokenActive(fs.readFileSync(file, 'utf8'))).toBe(true)
  })

  test('--header-file alone writes only the header file', async () => {
    const dir = outDir()
    const header = path.join(dir, 'header')
    const result = await run(['sink', '-e', ENV, '--once', '--min-ttl', '5s', '--header-file', header])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toContain(`to ${header}.`)
    expect(fs.readdirSync(dir)).toEqual(['header'])
    const line = fs.readFileSync(header, 'utf8')
    expect(line.startsWith(HEADER_PREFIX)).toBe(true)
    expect(server.isAccessTokenActive(line.slice(HEADER_PREFIX.length))).toBe(true)
  })

  test('--mode 0640 gives exactly 0640 under a umask of 077, and 0600 under it too', async () => {
    // The umask must not cut the group bit that --mode asked for (nor add any).
    const dir = outDir()
    const file = path.join(dir, 'token')
    const header = path.join(dir, 'header')
    expect(await onceUnderUmask(['--file', file, '--header-file', header, '--mode', '0640'])).toMatchObject({
      code: 0,
      stdout: '',
    })
    for (const target of [file, header]) expect(fs.statSync(target).mode & 0o7777).toBe(0o640)

    const other = path.join(dir, 'other')
    expect(await onceUnderUmask(['--file', other], '000')).toMatchObject({ code: 0 })
    expect(fs.statSync(other).mode & 0o7777).toBe(0o600)
  })

  test('an existing file of ours with a looser mode is replaced by one with the mode asked for', async () => {
    // A rewrite that kept the old inode would keep the old 0644 and leak the token to everyone.
    const dir = outDir()
    const file = path.join(dir, 'token')
    fs.writeFileSync(file, 'old', { mode: 0o644 })
    fs.chmodSync(file, 0o644)
    expect(await run(['sink', '-e', ENV, '--once', '--min-ttl', '5s', '--file', file])).toMatchObject({ code: 0 })
    expect(fs.statSync(file).mode & 0o7777).toBe(0o600)
    expect(issuedAccess().has(fs.readFileSync(file, 'utf8'))).toBe(true)
  })
})

describe('stopping a running sink', () => {
  beforeEach(async () => {
    await setUp()
    await addEnvAndLogIn()
  })
  afterEach(tearDown)

  test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s right after its "Wrote" line ends it with exit 0, and the files stay',
    async (signal) => {
      // A stop asked for, not a failure: once the sink says it wrote the files, a stop must be its own
      // (exit 0), not the signal's default death. A handler put in place after that line loses the race.
      const dir = outDir()
      const file = path.join(dir, 'token')
      const sink = startSink(['--file', file, '--min-ttl', '5s'])
      await sink.waitForStderr(/^Wrote a token/m)
      sink.child.kill(signal)
      const ended = await sink.done
      expect({ code: ended.code, signal: ended.signal, stdout: ended.stdout }).toEqual({
        code: 0,
        signal: null,
        stdout: '',
      })
      expect(server.isAccessTokenActive(fs.readFileSync(file, 'utf8'))).toBe(true)
      expect(fs.readdirSync(dir)).toEqual(['token'])
    },
  )
})

// ---- 4. refused input -----------------------------------------------------------------------

describe('a refused target or flag: exit 2, a message, and nothing written', () => {
  beforeAll(async () => {
    await setUp()
    await addEnvAndLogIn()
  })
  afterAll(tearDown)

  let counter = 0
  /** A fresh dir for each case, so that "nothing written" is the dir's listing. */
  function fresh(mode = 0o700): string {
    counter += 1
    return outDir(`case-${counter}`, mode)
  }

  async function expectRefused(args: string[], dirs: string[], ...says: string[]): Promise<RunResult> {
    const before = dirs.map((dir) => listing(dir))
    const refreshes = server.count(REFRESH)
    const result = await run(['sink', '-e', ENV, ...args])
    expect({ code: result.code, signal: result.signal, stdout: result.stdout }).toEqual({
      code: 2,
      signal: null,
      stdout: '',
    })
    for (const text of says) expect(result.stderr).toContain(text)
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(result.stderr).not.toContain('Wrote')
    expect(dirs.map((dir) => listing(dir))).toEqual(before)
    // Refused before the server is asked for anything.
    expect(server.count(REFRESH)).toBe(refreshes)
    expectNoToken(result.stderr)
    return result
  }

  /** Names, sizes and contents of a dir's entries (a dir entry as just its name). */
  function listing(dir: string): string[] {
    if (!fs.existsSync(dir)) return []
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .map((entry) => {
        const full = path.join(dir, entry.name)
        return entry.isFile() ? `${entry.name}=${fs.readFileSync(full, 'utf8')}` : entry.name
      })
      .sort()
  }

  test.each([
    ['0777', 0o777],
    ['1777, as /tmp is', 0o1777],
    ['0770 (group-writable)', 0o770],
    ['0720', 0o720],
  ])('a target in a dir others can write, %s', async (_, mode) => {
    const dir = fresh(mode)
    await expectRefused(
      ['--file', path.join(dir, 'token')],
      [dir],
      `The directory ${dir} can be changed by other users (mode ${mode.toString(8).padStart(4, '0')})`,
      `chmod go-w '${dir}'`,
    )
  })

  test('a header file in such a dir, even when --file is fine', async () => {
    const good = fresh()
    const bad = fresh(0o777)
    await expectRefused(
      ['--file', path.join(good, 'token'), '--header-file', path.join(bad, 'header')],
      [good, bad],
      `The directory ${bad} can be changed by other users`,
    )
  })

  test('a symbolic link, even to a file of ours: the file it points to is left as it was', async () => {
    const dir = fresh()
    const real = path.join(dir, 'real')
    fs.writeFileSync(real, 'mine', { mode: 0o600 })
    const link = path.join(dir, 'token')
    fs.symlinkSync(real, link)
    await expectRefused(['--file', link], [dir], `${link} is a symbolic link`)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
  })

  test('a target that is a directory', async () => {
    const dir = fresh()
    const target = path.join(dir, 'token')
    fs.mkdirSync(target)
    await expectRefused(['--file', target], [dir, target], `${target} is not a regular file`)
  })

  asRoot('an existing file of another user', async () => {
    const dir = fresh()
    const target = path.join(dir, 'token')
    fs.writeFileSync(target, 'theirs', { mode: 0o600 })
    fs.chownSync(target, OTHER_UID, OTHER_UID)
    await expectRefused(['--file', target], [dir], `The file ${target} belongs to another user (uid ${OTHER_UID})`)
    expect(fs.statSync(target).uid).toBe(OTHER_UID)
  })

  asRoot('a dir of another user, even one only they can write', async () => {
    const dir = fresh(0o755)
    fs.chownSync(dir, OTHER_UID, OTHER_UID)
    await expectRefused(
      ['--file', path.join(dir, 'token')],
      [dir],
      `The directory ${dir} belongs to another user (uid ${OTHER_UID})`,
    )
  })

  test.each([
    ['0644', 'opens the token file to every user of this machine'],
    ['0604', 'opens the token file to every user of this machine'],
    ['0602', 'opens the token file to every user of this machine'],
    ['0750', 'makes the token file executable'],
    ['0700', 'makes the token file executable'],
    ['0660', 'makes the token file writable by its group'],
    ['abc', '--mode "abc" is not an octal file mode'],
    ['', 'is not an octal file mode'],
  ])('--mode %p', async (mode, says) => {
    const dir = fresh()
    await expectRefused(['--file', path.join(dir, 'token'), '--mode', mode], [dir], says)
  })

  test('no --file and no --header-file', async () => {
    await expectRefused([], [], 'sink needs a file to write', 'tokenctl sink --file PATH')
  })

  test('the same path for both, also when spelled differently', async () => {
    const dir = fresh()
    await expectRefused(
      ['--file', path.join(dir, 'token'), '--header-file', `${dir}/./sub/../token`],
      [dir],
      '--file and --header-file name the same file',
    )
  })

  test('a parent dir that does not exist: the message says how to make it', async () => {
    const dir = path.join(fresh(), 'missing')
    await expectRefused(
      ['--file', path.join(dir, 'token')],
      [path.dirname(dir)],
      `The directory ${dir} does not exist`,
      `mkdir -m 700 -p '${dir}'`,
    )
  })

  test('--min-ttl 5m with tokens of 20 s: refused with the --min-ttl to use, no file written', async () => {
    // Asked for a token good for 5 min, the server grants 20 s: the sink would refresh without pause.
    const dir = fresh()
    const result = await run(['sink', '-e', ENV, '--file', path.join(dir, 'token'), '--min-ttl', '5m'])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
    expect(result.stderr).toContain('--min-ttl 5m is not shorter than the life of the tokens "dev" grants')
    expect(result.stderr).toMatch(/Use a shorter --min-ttl, such as --min-ttl \d+s/)
    expect(fs.readdirSync(dir)).toEqual([])
    expectNoToken(result.stderr)
  })
})

describe('not logged in', () => {
  beforeEach(setUp)
  afterEach(tearDown)

  test('exit 3 and no file', async () => {
    expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
    const dir = outDir()
    const result = await run(['sink', '-e', ENV, '--file', path.join(dir, 'token'), '--once'])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/log ?in/i)
    expect(fs.readdirSync(dir)).toEqual([])
    // Without --once too: a sink that cannot start does not wait for a login.
    const running = await run(['sink', '-e', ENV, '--file', path.join(dir, 'token')])
    expect(running.code).toBe(3)
    expect(fs.readdirSync(dir)).toEqual([])
  })
})

// ---- 5. a server down longer than a token lasts -------------------------------------------

describe('a refresh that fails until the token in the files expired', () => {
  beforeEach(() => setUp({ accessTtl: 6 }))
  afterEach(tearDown)

  test.each([
    ['answers 503', (api: ApiServer) => api.setFailure('status:503', { path: REFRESH })],
    ['is gone', (api: ApiServer) => void api.close()],
  ])(
    'the server %s: the files keep the last token while it is valid, then exit 5 with a clear message',
    async (_, breakServer) => {
      // Tokens of 6 s, renewed at 2 s left: tries at ~4 s, ~5 s and at expiry (6 s), then it stops.
      await addEnvAndLogIn()
      const dir = outDir()
      const file = path.join(dir, 'token')
      const header = path.join(dir, 'header')
      const token = server.issued().access.at(-1)!
      const issued = issuedAccess()
      breakServer(server)
      const sink = startSink(['--file', file, '--header-file', header, '--min-ttl', '1s'])
      await sink.waitForStderr(/^Wrote a token/m)
      const reader = startReader(file, header)
      const ended = await sink.done
      const report = await reader.stop()

      expect({ code: ended.code, signal: ended.signal, stdout: ended.stdout }).toEqual({
        code: 5,
        signal: null,
        stdout: '',
      })
      // It gave up only once the token it handed out had expired: the server no longer takes it.
      expect(server.isAccessTokenActive(token)).toBe(false)
      expect(ended.stderr).toMatch(/The token for "dev" expired at \S+ and could not be refreshed: /)
      expect(ended.stderr).toContain('The sink stops.')
      expect(wroteLines(ended.stderr)).toHaveLength(1)
      expectNoToken(ended.stderr)
      // The files were never touched: the reader saw the one whole token throughout.
      expect([...expectWholeTokens(report, issued)]).toEqual([token])
      expect(fs.readFileSync(file, 'utf8')).toBe(token)
      expect(fs.readFileSync(header, 'utf8')).toBe(`${HEADER_PREFIX}${token}`)
      expect(fs.readdirSync(dir).sort()).toEqual(['header', 'token'])
    },
    40_000,
  )

  test('retries while the token is valid: a failure that passes leaves the sink running', async () => {
    // One 503 at ~4 s, then a working server: the retry ~1 s later renews, before the token expired.
    await addEnvAndLogIn()
    const dir = outDir()
    const file = path.join(dir, 'token')
    server.failNext('status:503', 1, { path: REFRESH })
    const sink = startSink(['--file', file, '--min-ttl', '1s'])
    await waitFor(() => wroteLines(sink.stderr).length >= 2, 'the second write')
    expect(server.count(REFRESH)).toBe(2)
    expect(server.isAccessTokenActive(fs.readFileSync(file, 'utf8'))).toBe(true)
    sink.child.kill('SIGTERM')
    const ended = await sink.done
    expect(ended.code).toBe(0)
    expect(ended.stderr).not.toContain('could not be refreshed')
  }, 40_000)
})

// ---- 6. revoke ------------------------------------------------------------------------------

describe('the sink and `tokenctl revoke`', () => {
  afterEach(tearDown)

  test('after revoke it says at its next renewal that it cannot refresh, and picks up a new login without a restart', async () => {
    // Tokens of 12 s, due at 6 s left: the failure is reported at ~6 s, retries run to 12 s.
    await setUp({ accessTtl: 12 })
    await addEnvAndLogIn()
    const dir = outDir()
    const file = path.join(dir, 'token')
    const sink = startSink(['--file', file, '--min-ttl', '5s'])
    await sink.waitForStderr(/^Wrote a token/m)
    const first = fs.readFileSync(file, 'utf8')
    expect(await run(['revoke', '-e', ENV])).toMatchObject({ code: 0 })
    await sink.waitForStderr(/could not be refreshed: .*\n.*tokenctl keeps trying/)
    // Still running, the file untouched: the sink cannot know the token in it was revoked too.
    expect(sink.child.exitCode).toBeNull()
    expect(fs.readFileSync(file, 'utf8')).toBe(first)

    expect(await run(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)).toMatchObject({
      code: 0,
    })
    await sink.waitForStderr(/is fresh again, valid until/)
    const renewed = fs.readFileSync(file, 'utf8')
    expect(renewed).not.toBe(first)
    expect(server.isAccessTokenActive(renewed)).toBe(true)
    sink.child.kill('SIGTERM')
    const ended = await sink.done
    expect(ended.code).toBe(0)
    expectNoToken(ended.stderr)
  }, 40_000)

  test('after revoke and no new login: exit 3 once the token in the file expired', async () => {
    await setUp({ accessTtl: 6 })
    await addEnvAndLogIn()
    const dir = outDir()
    const file = path.join(dir, 'token')
    const sink = startSink(['--file', file, '--min-ttl', '1s'])
    await sink.waitForStderr(/^Wrote a token/m)
    const first = fs.readFileSync(file, 'utf8')
    expect(await run(['revoke', '-e', ENV])).toMatchObject({ code: 0 })
    const ended = await sink.done
    expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 3, signal: null })
    expect(ended.stderr).toMatch(/The token for "dev" expired at \S+ and could not be refreshed: /)
    expect(ended.stderr).toContain('The sink stops.')
    expect(fs.readFileSync(file, 'utf8')).toBe(first)
    expectNoToken(ended.stderr)
  }, 40_000)
})

// ---- 7. another user -------------------------------------------------------------------------

describe('the sink run by another user over its own sandbox', () => {
  beforeEach(() => setUp())
  afterEach(tearDown)

  function chownTree(dir: string, uid: number): void {
    fs.chownSync(dir, uid, uid)
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) chownTree(full, uid)
      else fs.lchownSync(full, uid, uid)
    }
  }

  function runAsNobody(args: string[], input?: string): Promise<RunResult> {
    return runProcess(
      SETPRIV!,
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, BIN, ...args],
      { env: sandbox.env(fileStore), input },
    )
  }

  asAnotherUser('writes files it owns, and refuses a file of root in its own dir', async () => {
    const dir = outDir()
    chownTree(sandbox.dir, NOBODY)
    expect(await runAsNobody(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
    expect(
      await runAsNobody(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`),
    ).toMatchObject({ code: 0 })

    const file = path.join(dir, 'token')
    const wrote = await runAsNobody(['sink', '-e', ENV, '--once', '--min-ttl', '5s', '--file', file])
    expect(wrote).toMatchObject({ code: 0, stdout: '' })
    expect(fs.statSync(file)).toMatchObject({ uid: NOBODY, gid: NOBODY })
    expect(fs.statSync(file).mode & 0o7777).toBe(0o600)
    expect(server.isAccessTokenActive(fs.readFileSync(file, 'utf8'))).toBe(true)

    // Root's file is another user's file to nobody, whatever dir it sits in.
    const roots = path.join(dir, 'roots')
    fs.writeFileSync(roots, 'root', { mode: 0o644 })
    const refused = await runAsNobody(['sink', '-e', ENV, '--once', '--min-ttl', '5s', '--file', roots])
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 2, stdout: '' })
    expect(refused.stderr).toContain(`The file ${roots} belongs to another user (uid 0)`)
    expect(fs.readFileSync(roots, 'utf8')).toBe('root')
    expect(fs.statSync(roots).uid).toBe(0)
  })
})

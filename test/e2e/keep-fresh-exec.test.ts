/**
 * `tokenctl exec --keep-fresh` end to end (docs/design.md#long-running-programs): the built CLI
 * beside a real child (sh, real curl) that outlives its tokens, against the login API server
 * of test/support with short-lived tokens. What is asserted is what a user sees: the HTTP
 * statuses the child got, the refreshes the server saw, the files on disk and when they go,
 * exit codes and stderr.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunningCli, Sandbox } from '../support/cli.js'

const ENV = 'prod'
const REFRESH = '/auth/token/refresh'

let sandbox: Sandbox
let server: ApiServer

async function setUp(accessTtl: number): Promise<void> {
  sandbox = new Sandbox()
  server = await startApiServer({ accessTtl })
  expect(await sandbox.run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
  const login = await sandbox.run(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], {
    env: { TOKENCTL_STORE: 'file' },
    input: 'wonderland\n',
  })
  expect(login).toMatchObject({ code: 0, stdout: '' })
}

afterEach(async () => {
  await server.close()
  sandbox.cleanup()
})

/** Where the child writes what the test reads back (its log, the paths it was given, its pid). */
const out = (name: string) => path.join(sandbox.dir, name)
const read = (name: string) => fs.readFileSync(out(name), 'utf8')
const execRoot = () => path.join(sandbox.runtimeDir, 'tokenctl', 'exec')

/**
 * The start every child script shares: it tells the test its pid, the files it was given and
 * the first token, then says "ready" on stderr once that is all written.
 */
const PREAMBLE = `
echo $$ > "$DIR/pid"
printf %s "$TOKENCTL_TOKEN_FILE" > "$DIR/token-file"
printf %s "$TOKENCTL_HEADER_FILE" > "$DIR/header-file"
printf %s "$TOKENCTL_TOKEN" > "$DIR/env-token"
echo ready >&2
`

/** A child that idles until the test creates $DIR/stop, then exits with `code`. */
const idleUntilStop = (code: number) => `${PREAMBLE}
while [ ! -e "$DIR/stop" ]; do sleep 0.1; done
exit ${code}
`

function startExec(script: string, flags: string[], timeoutMs = 60_000, env: Record<string, string> = {}): RunningCli {
  fs.writeFileSync(out('child.sh'), script)
  return sandbox.start(['exec', '-e', ENV, '--keep-fresh', ...flags, '--', 'sh', out('child.sh')], {
    env: { TOKENCTL_STORE: 'file', DIR: sandbox.dir, ME: `${server.url}/api/me`, ...env },
    timeoutMs,
  })
}

/**
 * A `curl` first on PATH that logs the argv it was given (what the process list shows other
 * users) and then runs the real one; returns the PATH to give the child.
 */
function curlShim(): string {
  const realCurl = execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim()
  if (!realCurl) throw new Error('curl is required for this test (install curl)')
  const bin = out('bin')
  fs.mkdirSync(bin)
  fs.writeFileSync(
    path.join(bin, 'curl'),
    `#!/bin/sh\nprintf '%s\\n' "$@" >> "$DIR/curl-argv.log"\nexec '${realCurl}' "$@"\n`,
    { mode: 0o755 },
  )
  return [bin, process.env.PATH ?? ''].join(path.delimiter)
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** No access or refresh token the server ever minted appears in `text`. */
function expectNoToken(text: string): void {
  const { access, refresh } = server.issued()
  for (const token of [...access, ...refresh]) expect(text).not.toContain(token)
}

/** The dir of the child's token files, gone (with the files) once tokenctl has exited. */
function expectFilesGone(): void {
  const dir = path.dirname(read('token-file'))
  expect(fs.existsSync(read('token-file'))).toBe(false)
  expect(fs.existsSync(read('header-file'))).toBe(false)
  expect(fs.existsSync(dir)).toBe(false)
  expect(fs.readdirSync(execRoot())).toEqual([])
}

const jwtExpMs = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000

describe('exec --keep-fresh, the acceptance run', () => {
  beforeEach(() => setUp(20))

  test('a child calling the API twice a second for 90 s with 20-s tokens never gets a 401', async () => {
    // Each half second: curl with the header file, and curl with a header built from the token
    // file on stdin; the token is never in curl's argv. A stale file would show as a 401.
    const script = `${PREAMBLE}
end=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$end" ]; do
  curl -s -o /dev/null -w '%{http_code}\\n' -H @"$TOKENCTL_HEADER_FILE" "$ME" >> "$DIR/status.log"
  printf 'Authorization: Bearer %s' "$(cat "$TOKENCTL_TOKEN_FILE")" |
    curl -s -o /dev/null -w '%{http_code}\\n' -H @- "$ME" >> "$DIR/status.log"
  sleep 0.5
done
exit 7
`
    const refreshesBefore = server.count(REFRESH)
    const cli = startExec(script, ['--min-ttl', '5s'], 150_000, { PATH: curlShim() })
    const result = await cli.done
    expect(result.code).toBe(7)

    const statuses = read('status.log').trim().split('\n')
    // ~150 rounds of two calls in 90 s (the curls take their time too); far fewer means the loop broke.
    expect(statuses.length).toBeGreaterThan(150)
    expect(statuses.filter((status) => status !== '200')).toEqual([])
    // The logged-in token (20 s) is renewed 20 - 5 (--min-ttl) - 1 (lead) = 14 s after it was
    // issued, and every new one 14 s later: in ~91 s that is at 14, 28, … 84 s, 6 refreshes.
    // 5..8 allows for start-up and curl time; one per call would be hundreds.
    const refreshes = server.count(REFRESH) - refreshesBefore
    expect(refreshes).toBeGreaterThanOrEqual(5)
    expect(refreshes).toBeLessThanOrEqual(8)
    expect(server.count('/auth/token')).toBe(1)
    expectFilesGone()
    expectNoToken(result.stderr)
    expect(read('curl-argv.log')).toContain('-H')
    expectNoToken(read('curl-argv.log'))
  }, 180_000)
})

describe('exec --keep-fresh, the files', () => {
  beforeEach(() => setUp(20))

  test('are 0600 in a 0700 dir of the runtime dir; the token file is $TOKENCTL_TOKEN, no newline', async () => {
    // A file others could read, a dir elsewhere, a trailing newline or a header with more in it all fail here.
    const cli = startExec(idleUntilStop(0), ['--min-ttl', '5s'])
    await cli.waitForStderr(/ready/)
    const tokenFile = read('token-file')
    const headerFile = read('header-file')
    const dir = path.dirname(tokenFile)
    expect(path.dirname(headerFile)).toBe(dir)
    expect(path.dirname(dir)).toBe(execRoot())
    expect(path.basename(dir)).toMatch(new RegExp(`^${cli.child.pid}-`))
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(execRoot()).mode & 0o077).toBe(0)
    for (const file of [tokenFile, headerFile]) {
      expect(fs.lstatSync(file).isFile()).toBe(true)
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    }
    const token = read('env-token')
    expect(token).toMatch(/^\S+$/)
    expect(fs.readFileSync(tokenFile, 'utf8')).toBe(token)
    expect(fs.readFileSync(headerFile, 'utf8')).toBe(`Authorization: Bearer ${token}`)
    expect(server.isAccessTokenActive(token)).toBe(true)
    fs.writeFileSync(out('stop'), '')
    expect((await cli.done).code).toBe(0)
    expectFilesGone()
  })

  test.each([
    ['SIGTERM', 128 + 15],
    ['SIGHUP', 128 + 1],
  ] as const)('go when tokenctl gets %s while the child runs; the child ends by it', async (signal, code) => {
    // The signal is passed on, the child (no trap) dies of it, and tokenctl cleans up before exiting 128+N.
    const cli = startExec(idleUntilStop(0), ['--min-ttl', '5s'])
    await cli.waitForStderr(/ready/)
    expect(fs.existsSync(read('token-file'))).toBe(true)
    cli.child.kill(signal)
    const result = await cli.done
    expect(result.code).toBe(code)
    expect(() => process.kill(Number(read('pid')), 0)).toThrow()
    expectFilesGone()
  })

  test('go when the child exits by itself, and its code is tokenctl’s', async () => {
    const cli = startExec(`${PREAMBLE}exit 3\n`, ['--min-ttl', '5s'])
    expect((await cli.done).code).toBe(3)
    expectFilesGone()
  })

  test('go when the child is killed with SIGKILL from outside', async () => {
    // No handler runs in the child: tokenctl alone notices and removes the dir.
    const cli = startExec(idleUntilStop(0), ['--min-ttl', '5s'])
    await cli.waitForStderr(/ready/)
    process.kill(Number(read('pid')), 'SIGKILL')
    expect((await cli.done).code).toBe(128 + 9)
    expectFilesGone()
  })

  test('a dir left by a tokenctl killed outright goes at the next exec --keep-fresh, a live one stays', async () => {
    // SIGKILL runs no exit handler, so the dir stays; the next run removes dirs of dead pids only.
    const cli = startExec(idleUntilStop(0), ['--min-ttl', '5s'])
    await cli.waitForStderr(/ready/)
    const abandoned = path.dirname(read('token-file'))
    const live = path.join(execRoot(), `${process.pid}-keepme`)
    fs.mkdirSync(live, { mode: 0o700 })
    cli.child.kill('SIGKILL')
    fs.writeFileSync(out('stop'), '') // the orphaned child holds tokenctl's pipes until it ends
    await cli.done
    expect(fs.existsSync(path.join(abandoned, 'token'))).toBe(true)

    const next = await sandbox.run(['exec', '-e', ENV, '--keep-fresh', '--min-ttl', '5s', '--', 'true'], {
      env: { TOKENCTL_STORE: 'file' },
    })
    expect(next.code).toBe(0)
    expect(fs.existsSync(abandoned)).toBe(false)
    expect(fs.existsSync(live)).toBe(true)
  })
})

describe('exec --keep-fresh --signal', () => {
  beforeEach(() => setUp(8))

  /**
   * A child that counts HUP and USR1 and, on each, saves the token file as it is then; it
   * ends a round after it sees the token file change, so a signal sent with the rewrite has
   * arrived by then.
   */
  const countingChild = `${PREAMBLE}
n=0
trap 'n=$((n+1)); cat "$TOKENCTL_TOKEN_FILE" > "$DIR/after-$n"' HUP USR1
first=$(cat "$TOKENCTL_TOKEN_FILE")
while [ "$(cat "$TOKENCTL_TOKEN_FILE")" = "$first" ]; do sleep 0.1; done
sleep 0.5
echo $n > "$DIR/count"
exit 0
`

  test.each(['HUP', 'usr1'])(
    '--signal %s reaches the child after the renewal, with the new token in place',
    async (name) => {
      // 8-s tokens, --min-ttl 2s: renewed after ~5 s; the token read in the trap must be the new one.
      const cli = startExec(countingChild, ['--min-ttl', '2s', '--signal', name], 40_000)
      const result = await cli.done
      expect(result.code).toBe(0)
      expect(read('count').trim()).toBe('1')
      const first = read('env-token')
      const after = read('after-1')
      expect(after).not.toBe(first)
      expect(server.isAccessTokenActive(after)).toBe(true)
      expectFilesGone()
      expectNoToken(result.stderr)
    },
    60_000,
  )

  test('without --signal the child gets no signal at a renewal', async () => {
    const cli = startExec(countingChild, ['--min-ttl', '2s'], 40_000)
    expect((await cli.done).code).toBe(0)
    expect(read('count').trim()).toBe('0')
  }, 60_000)
})

describe('exec --keep-fresh, bad input', () => {
  beforeEach(() => setUp(20))

  const run = (flags: string[]) =>
    sandbox.run(['exec', '-e', ENV, ...flags, '--', 'sh', '-c', 'touch "$DIR/started"'], {
      env: { TOKENCTL_STORE: 'file', DIR: sandbox.dir },
    })

  const expectNothingStarted = () => {
    expect(fs.existsSync(out('started'))).toBe(false)
    expect(fs.existsSync(execRoot()) ? fs.readdirSync(execRoot()) : []).toEqual([])
  }

  test('--signal FOO is refused with exit 2', async () => {
    const result = await run(['--keep-fresh', '--min-ttl', '5s', '--signal', 'FOO'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--signal "FOO" is not a signal name')
    expectNothingStarted()
  })

  test('--signal without --keep-fresh is refused with exit 2', async () => {
    const result = await run(['--signal', 'HUP', '--min-ttl', '5s'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--keep-fresh/)
    expectNothingStarted()
  })

  test('--min-ttl 5m with 20-s tokens is refused with exit 2 before any file or child', async () => {
    // The tokens would be renewed without pause: the person is told to shorten --min-ttl.
    const result = await run(['--keep-fresh', '--min-ttl', '5m'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--min-ttl 5m')
    expect(result.stderr).toMatch(/Use a shorter --min-ttl, such as --min-ttl \d+s/)
    expectNothingStarted()
    expectNoToken(result.stderr)
  })
})

describe('exec --keep-fresh, a server down for longer than a token lasts', () => {
  beforeEach(() => setUp(8))

  test('the child keeps running; the expiry is said once; a fresh token comes back with the server', async () => {
    // 8-s tokens, --min-ttl 2s: renewal due after ~5 s, retried at ~1 s and ~2 s until the
    // expiry (~8 s), then after 4 s, 8 s, 16 s …; the expiry is reported at the first failure after it.
    const script = `${PREAMBLE}
while [ ! -e "$DIR/stop" ]; do
  printf 'Authorization: Bearer %s' "$(cat "$TOKENCTL_TOKEN_FILE")" |
    curl -s -o /dev/null -w '%{http_code}\\n' -H @- "$ME" >> "$DIR/status.log"
  sleep 0.5
done
exit 9
`
    server.setFailure('status:503', { path: REFRESH })
    const cli = startExec(script, ['--min-ttl', '2s'], 90_000)
    await cli.waitForStderr(/ready/)
    const first = read('env-token')
    await cli.waitForStderr(/expired at/, 30_000)
    const failedByExpiry = server.count(REFRESH)
    // Refreshes were retried while the token was still valid, not first tried at its expiry.
    const beforeExpiry = server.requests.filter((r) => r.path === REFRESH && r.at < jwtExpMs(first))
    expect(beforeExpiry.length).toBeGreaterThanOrEqual(2)
    // One more failed retry after the report: it must not be said again.
    await waitFor('a retry after the expiry', () => server.count(REFRESH) > failedByExpiry, 30_000)
    expect(read('status.log')).toContain('401')
    server.setFailure(undefined)
    await cli.waitForStderr(/fresh again/, 40_000)
    await waitFor('a 200 with the fresh token', () => /401\n(.*\n)*200\n/.test(read('status.log')), 10_000)
    expect(fs.readFileSync(read('token-file'), 'utf8')).not.toBe(first)
    fs.writeFileSync(out('stop'), '')
    const result = await cli.done
    expect(result.code).toBe(9)
    expect(result.stderr.match(/expired at/g)).toHaveLength(1)
    expect(result.stderr).toContain('tokenctl keeps trying')
    expect(result.stderr.match(/fresh again/g)).toHaveLength(1)
    expectFilesGone()
    expectNoToken(result.stderr)
  }, 120_000)
})

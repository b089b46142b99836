/**
 * `tokenctl exec -- CMD ARGS…` (docs/design.md#commands, docs/design.md#secrets-never-leak): the built CLI as a subprocess against the
 * real JSON login API of test/support, with the plain-file store. The token reaches the
 * child through its environment only, the exit code and signals pass through.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, type RunResult, Sandbox } from '../support/cli.js'
import { inTerminal } from '../support/terminal.js'

const ENV = 'prod'

let sandbox: Sandbox
let server: ApiServer

/** A sandbox with env `prod` pointing at a fresh server. */
async function setUp(): Promise<void> {
  sandbox = new Sandbox()
  server = await startApiServer()
  expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0, stdout: '' })
}

async function tearDown(): Promise<void> {
  await server.close()
  sandbox.cleanup()
}

function run(args: string[], input?: string, env: Record<string, string> = {}): Promise<RunResult> {
  return sandbox.run(args, { env: { TOKENCTL_STORE: 'file', ...env }, input })
}

/** Logs alice in and gives back what `tokenctl token` prints (without its newline). */
async function loginForToken(): Promise<string> {
  expect(await run(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], 'wonderland\n')).toMatchObject({
    code: 0,
    stdout: '',
  })
  const printed = await run(['token', '-e', ENV])
  expect(printed.code).toBe(0)
  return printed.stdout.replace(/\n$/, '')
}

const exec = (command: string[], options: { input?: string; env?: Record<string, string>; flags?: string[] } = {}) =>
  run(['exec', '-e', ENV, ...(options.flags ?? []), '--', ...command], options.input, options.env)

/**
 * `tokenctl exec` of a shell that traps `trap` and says "ready" once the trap is in place;
 * then `signal` is sent to tokenctl. What the child wrote to its marker file tells whether
 * the signal reached it.
 */
async function signalWhenReady(trap: string, signal: NodeJS.Signals, options: { detached?: boolean } = {}) {
  const marker = path.join(sandbox.dir, `got-${trap.toLowerCase()}`)
  // The trap runs between two short sleeps.
  const script = `trap 'echo ${trap.toLowerCase()} > "$MARKER"; exit 0' ${trap}; echo ready; while :; do sleep 0.1; done`
  const child = spawn(process.execPath, [BIN, 'exec', '-e', ENV, '--', 'sh', '-c', script], {
    env: sandbox.env({ TOKENCTL_STORE: 'file', MARKER: marker }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  // A child left behind (tokenctl gone, the shell still holding the pipes) must not hang the
  // test: with a process group of its own, the whole group goes.
  const killer = setTimeout(
    () => (options.detached ? process.kill(-child.pid!, 'SIGKILL') : child.kill('SIGKILL')),
    30_000,
  )
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  await new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.includes('ready\n')) resolve()
    })
    void exited.then(() => resolve())
  })
  child.kill(signal)
  const ended = await exited
  clearTimeout(killer)
  return { ...ended, stdout, stderr, marker: fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : undefined }
}

describe('exec, logged in', () => {
  // exec changes no stored token, so one login serves every case.
  let token: string
  beforeAll(async () => {
    await setUp()
    token = await loginForToken()
  })
  afterAll(tearDown)

  test('the child gets the token in TOKENCTL_TOKEN, exactly what `tokenctl token` prints', async () => {
    const result = await exec(['sh', '-c', 'printf %s "$TOKENCTL_TOKEN"'])
    expect(result).toMatchObject({ code: 0, stdout: token })
    expect(result.stderr).not.toContain(token)
  })

  test('--var names the variable instead', async () => {
    const result = await exec(['sh', '-c', 'printf "%s|%s" "$API_TOKEN" "${TOKENCTL_TOKEN-unset}"'], {
      flags: ['--var', 'API_TOKEN'],
    })
    expect(result).toMatchObject({ code: 0, stdout: `${token}|unset` })
  })

  test('--var that is not a variable name is a usage error and runs nothing', async () => {
    const marker = path.join(sandbox.dir, 'ran')
    const result = await exec(['sh', '-c', 'touch "$MARKER"'], { flags: ['--var', 'A-B'], env: { MARKER: marker } })
    expect(result.code).toBe(2)
    expect(fs.existsSync(marker)).toBe(false)
  })

  test('arguments reach the child as they are and in order, with no shell in between', async () => {
    // Words that repeat earlier ones (sh, -e, prod, --, exec) once got re-sorted by oclif.
    const result = await exec([
      'sh',
      '-c',
      'printf "[%s]" "$@"',
      'sh',
      'a b',
      '$HOME',
      "it's",
      '--',
      '-e',
      ENV,
      '--var',
      'X',
      'exec',
      'sh',
      '',
    ])
    expect(result).toMatchObject({ code: 0, stdout: `[a b][$HOME][it's][--][-e][${ENV}][--var][X][exec][sh][]` })
  })

  test("the child's exit code passes through", async () => {
    expect((await exec(['sh', '-c', 'exit 7'])).code).toBe(7)
    expect((await exec(['sh', '-c', 'exit 0'])).code).toBe(0)
    expect((await exec(['false'])).code).toBe(1)
  })

  test('a child ended by a signal gives 128 + N', async () => {
    expect((await exec(['sh', '-c', 'kill -KILL $$'])).code).toBe(128 + os.constants.signals.SIGKILL)
    expect((await exec(['sh', '-c', 'kill -USR1 $$'])).code).toBe(128 + os.constants.signals.SIGUSR1)
  })

  test('stdin is passed to the child', async () => {
    const result = await exec(['cat'], { input: 'line one\nline two\n' })
    expect(result).toMatchObject({ code: 0, stdout: 'line one\nline two\n' })
  })

  test("stdout and stderr are the child's own", async () => {
    const result = await exec(['sh', '-c', 'echo out; echo err >&2'])
    expect(result).toMatchObject({ code: 0, stdout: 'out\n' })
    expect(result.stderr).toContain('err\n')
  })

  test('SIGTERM sent to tokenctl reaches the child, and its exit code is passed on', async () => {
    const result = await signalWhenReady('TERM', 'SIGTERM')
    expect(result).toEqual({ code: 0, signal: null, stdout: 'ready\n', stderr: '', marker: 'term\n' })
  })

  test('the child gets the token, and none of the variables that hold passwords, refresh tokens or client secrets', async () => {
    const secrets = {
      TOKENCTL_PASSWORD: 'pw-global-1',
      TOKENCTL_REFRESH_TOKEN: 'rt-global-2',
      TOKENCTL_CLIENT_SECRET: 'cs-global-3',
      TOKENCTL_PROD_PASSWORD: 'pw-prod-4',
      TOKENCTL_PROD_REFRESH_TOKEN: 'rt-prod-5',
      TOKENCTL_PROD_CLIENT_SECRET: 'cs-prod-6',
      // Another env's: the child has no more business with those.
      TOKENCTL_STAGING_EU_PASSWORD: 'pw-staging-7',
      TOKENCTL_STAGING_EU_CLIENT_SECRET: 'cs-staging-8',
    }
    const kept = { TOKENCTL_USERNAME: 'alice', TOKENCTL_PROD_CLIENT_ID: 'cli', UNRELATED: 'stays' }
    const result = await exec(['sh', '-c', 'env'], { env: { ...secrets, ...kept } })
    expect(result.code).toBe(0)
    const childEnv = new Map(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    )
    expect(childEnv.get('TOKENCTL_TOKEN')).toBe(token)
    for (const [name, value] of Object.entries(kept)) expect(childEnv.get(name)).toBe(value)
    for (const [name, value] of Object.entries(secrets)) {
      expect(childEnv.has(name)).toBe(false)
      expect(result.stdout).not.toContain(value)
    }
    // --var names another variable: the scrub is the same.
    const renamed = await exec(['sh', '-c', 'env'], { env: secrets, flags: ['--var', 'API_TOKEN'] })
    expect(renamed.stdout).toContain(`API_TOKEN=${token}\n`)
    for (const value of Object.values(secrets)) expect(renamed.stdout).not.toContain(value)
  })

  /**
   * `exec` of a child, at a terminal, that counts every SIGINT it gets in a file, tells its
   * parent's pid (tokenctl's) and exits with `code` once told to stop. `send` delivers the
   * signal; tokenctl must pass on the child's exit code. Gives back what the child counted.
   */
  async function sigintsReachingChild(
    name: string,
    code: number,
    send: (terminal: ReturnType<typeof inTerminal>, tokenctlPid: number) => void,
  ): Promise<string> {
    const count = path.join(sandbox.dir, `${name}-sigints`)
    const stop = path.join(sandbox.dir, `${name}-stop`)
    const childScript = path.join(sandbox.dir, `${name}.cjs`)
    fs.writeFileSync(
      childScript,
      [
        'const fs = require("node:fs")',
        'process.on("SIGINT", () => fs.appendFileSync(process.env.COUNT, "int\\n"))',
        // Its parent is the tokenctl process that started it.
        'process.stdout.write(`child ready ${process.ppid}.\\n`)',
        `const timer = setInterval(() => { if (fs.existsSync(process.env.STOP)) { clearInterval(timer); process.exit(${code}) } }, 50)`,
      ].join('\n'),
    )
    const terminal = inTerminal(
      ['exec', '-e', ENV, '--', process.execPath, childScript],
      sandbox.env({ TOKENCTL_STORE: 'file', COUNT: count, STOP: stop }),
    )
    try {
      await terminal.waitFor('child ready')
      send(terminal, Number(/child ready (\d+)\./.exec(terminal.screen())![1]))
      for (let i = 0; i < 200 && !fs.existsSync(count); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      // Time for a second one to arrive, were it sent.
      await new Promise((resolve) => setTimeout(resolve, 1000))
      fs.writeFileSync(stop, '')
      expect(await terminal.exited).toBe(code)
    } finally {
      terminal.kill()
    }
    return fs.readFileSync(count, 'utf8')
  }

  test('one Ctrl-C at a terminal reaches the child exactly once', async () => {
    // The terminal sends SIGINT to its whole foreground process group, the child included:
    // tokenctl must not pass it on a second time.
    expect(await sigintsReachingChild('ctrl-c', 0, (terminal) => terminal.type('\u0003'))).toBe('int\n')
  })

  test("one SIGINT to the process group reaches an exec child once, and the child's exit code is passed on", async () => {
    // What a terminal's Ctrl-C does, sent with kill(-pgid): tokenctl is its terminal's
    // foreground group, so the child got the signal already and must not get it twice.
    const received = await sigintsReachingChild('group', 17, (_terminal, tokenctl) => {
      // "pid (comm) state ppid pgrp session tty_nr tpgid …"
      const stat = fs.readFileSync(`/proc/${tokenctl}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const [pgrp, tpgid] = [Number(fields[2]), Number(fields[5])]
      expect(pgrp).toBe(tpgid)
      process.kill(-pgrp, 'SIGINT')
    })
    expect(received).toBe('int\n')
  })

  test('SIGINT sent with kill to a tokenctl without a terminal still reaches the child', async () => {
    // A process group (and session) of its own, with no terminal: only tokenctl can pass the signal on.
    const result = await signalWhenReady('INT', 'SIGINT', { detached: true })
    expect(result).toMatchObject({ code: 0, marker: 'int\n' })
  })

  test("the token is in neither the child's argv nor tokenctl's, only in the child's environment", async () => {
    // $$ is the child; its parent ($PPID) is the tokenctl process that spawned it.
    const script =
      'for f in /proc/$$/cmdline /proc/$PPID/cmdline /proc/$$/environ; do tr "\\000" " " < "$f"; echo; done'
    const result = await exec(['sh', '-c', script])
    expect(result.code).toBe(0)
    const [childArgv, parentArgv, childEnviron] = result.stdout.split('\n')
    expect(childArgv).toContain('sh -c')
    expect(parentArgv).toContain(`${BIN} exec -e ${ENV} -- sh -c`)
    expect(childArgv).not.toContain(token)
    expect(parentArgv).not.toContain(token)
    expect(childEnviron).toContain(`TOKENCTL_TOKEN=${token}`)
  })

  test('no command is a usage error (exit 2)', async () => {
    for (const args of [
      ['exec', '-e', ENV],
      ['exec', '-e', ENV, '--'],
    ]) {
      const result = await run(args)
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toMatch(/command/i)
    }
  })

  test('a command that does not exist is exit 2 with a clear message', async () => {
    const result = await exec(['tokenctl-test-no-such-command', 'arg'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('Command not found: tokenctl-test-no-such-command')
    expect(result.stderr).not.toContain(token)
    expect(result.stderr).not.toMatch(/^\s+at /m)
  })
})

describe('exec, not logged in', () => {
  beforeAll(setUp)
  afterAll(tearDown)

  test('exit 3 and the child never runs', async () => {
    const marker = path.join(sandbox.dir, 'ran')
    const result = await exec(['sh', '-c', 'touch "$MARKER"'], { env: { MARKER: marker } })
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toContain('tokenctl login')
    expect(fs.existsSync(marker)).toBe(false)
  })
})

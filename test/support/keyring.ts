/**
 * A real Secret Service for a test: gnome-keyring on a private D-Bus session bus, with
 * its own throwaway HOME, so a test never sees (or writes to) the user's own keyring.
 * And a bus that accepts connections and never answers, to stand for a keychain that hangs.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { runProcess } from './cli.js'

/** What the keyring needs on PATH (Debian: dbus-daemon or dbus-x11, gnome-keyring, libsecret-tools). */
const TOOLS = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool'] as const

export interface ToolResult {
  code: number | null
  stdout: string
  /** secret-tool prints an item's attributes on stderr. */
  stderr: string
}

export interface KeyringSession {
  /** DBUS_SESSION_BUS_ADDRESS of the private bus. */
  address: string
  /** What a child needs to find this keyring (the bus address), to add to its environment. */
  env: Record<string, string>
  /** Runs `secret-tool ARGS` against this keyring; `input` goes to its stdin (the secret of `store`). */
  secretTool(args: string[], input?: string): Promise<ToolResult>
  /** Plants `secret` as ACCOUNT's item of SERVICE (tokenctl's by default), as another program would: secret-tool's exit code. */
  storeItem(account: string, secret: string, service?: string): Promise<number | null>
  /** Stops the bus, the keyring and everything they started, and removes the temp dir. */
  stop(): Promise<void>
}

/** The tools of TOOLS that are not on PATH. */
export function missingKeyringTools(): string[] {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  return TOOLS.filter((tool) => !dirs.some((dir) => isExecutable(path.join(dir, tool))))
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * `test` when the Secret Service can be had here, else `test.skip` after a loud warning.
 * Under CI it is always `test`: CI installs gnome-keyring, so there a missing keyring must
 * fail (`startKeyringOrFail` throws), never pass as skipped.
 */
export function keyringTest(suite: string): jest.It {
  const missing = missingKeyringTools()
  if (missing.length === 0 || process.env.CI) return test
  console.warn(
    `\n!!! SKIPPED: "${suite}" needs a real Secret Service, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH.\n` +
      '!!! Install it (Debian/Ubuntu: apt-get install gnome-keyring dbus-x11 libsecret-tools) to run these tests.\n' +
      '!!! CI installs it, and there a missing keyring fails the run.\n',
  )
  return test.skip
}

/** `startKeyring()`, but under CI a missing keyring is an error (see `keyringTest`). */
export async function startKeyringOrFail(): Promise<KeyringSession | undefined> {
  const session = await startKeyring()
  if (!session && process.env.CI) {
    throw new Error(
      `CI is set but ${missingKeyringTools().join(', ')} is missing: CI installs gnome-keyring, so the keychain tests must run there.`,
    )
  }
  return session
}

/**
 * The bash run inside `dbus-run-session`: unlock (and so create) a login keyring with a
 * throwaway password, print the bus address, then wait until our end of stdin closes.
 * When `cat` ends, dbus-run-session stops the bus, and gnome-keyring leaves with it.
 */
const SESSION_SCRIPT = `
set -eu
printf '%s' throwaway-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf '%s\\n' "$DBUS_SESSION_BUS_ADDRESS"
exec cat >/dev/null
`

const START_TIMEOUT_MS = 20_000

/**
 * Starts a private session bus with an unlocked gnome-keyring; undefined when the tools
 * are not installed. Everything runs in its own process group, which `stop()` kills.
 */
export async function startKeyring(): Promise<KeyringSession | undefined> {
  if (missingKeyringTools().length > 0) return undefined
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-keyring-'))
  const sub = (name: string) => {
    const full = path.join(dir, name)
    fs.mkdirSync(full, { mode: 0o700 })
    return full
  }
  const home = sub('home')
  // Only what the keyring needs: no DISPLAY (no prompter can pop up), no user's dirs.
  const environ: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_DATA_HOME: sub('data'),
    XDG_CONFIG_HOME: sub('config'),
    XDG_CACHE_HOME: sub('cache'),
    XDG_RUNTIME_DIR: sub('run'),
  }
  const child = spawn('dbus-run-session', ['--', 'bash', '-c', SESSION_SCRIPT], {
    env: environ,
    detached: true, // a process group of its own: stop() kills the whole group
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stdin.on('error', () => {}) // EPIPE when the session is already gone
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      child.stdin.end()
      killGroup(child, 'SIGTERM')
      await Promise.race([exited, delay(5000)])
      // Whatever is left in the group (a keyring slow to leave) goes now.
      killGroup(child, 'SIGKILL')
      await waitGroupGone(child.pid, 5000)
      child.stdout.destroy()
      child.stderr.destroy()
      fs.rmSync(dir, { recursive: true, force: true })
    })())

  let address: string
  try {
    address = await firstLine(child, exited, START_TIMEOUT_MS, () => stderr)
  } catch (error) {
    await stop()
    throw error
  }

  const env = { DBUS_SESSION_BUS_ADDRESS: address }
  const secretTool = (args: string[], input?: string) => runTool('secret-tool', args, { ...environ, ...env }, input)
  return {
    address,
    env,
    secretTool,
    storeItem: async (account, secret, service = 'tokenctl') =>
      (await secretTool(['store', '--label', `${service} ${account}`, 'service', service, 'username', account], secret))
        .code,
    stop,
  }
}

function firstLine(
  child: ChildProcessByStdio<Writable, Readable, Readable>,
  exited: Promise<void>,
  timeoutMs: number,
  stderr: () => string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`gnome-keyring did not start within ${timeoutMs / 1000} s: ${stderr()}`)),
      timeoutMs,
    )
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const newline = out.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        const address = out.slice(0, newline).trim()
        if (address.startsWith('unix:')) resolve(address)
        else reject(new Error(`dbus-run-session printed no bus address: ${JSON.stringify(out)} ${stderr()}`))
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`dbus-run-session ended before the keyring was ready (exit ${child.exitCode}): ${stderr()}`))
    })
  })
}

function killGroup(child: { pid?: number }, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // ESRCH: the group is already gone
  }
}

/** Polls until no process of the group is left (signal 0 fails with ESRCH). */
async function waitGroupGone(pgid: number | undefined, timeoutMs: number): Promise<void> {
  if (pgid === undefined) return
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0)
    } catch {
      return
    }
    await delay(50)
  }
}

/** An unref'd timer: a wait that loses a race must not keep jest alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

function runTool(command: string, args: string[], env: Record<string, string>, input?: string): Promise<ToolResult> {
  return runProcess(command, args, { env, input, timeoutMs: 15_000 })
}

export interface HangingBus {
  /** A DBUS_SESSION_BUS_ADDRESS whose server accepts and then never says a word. */
  address: string
  /** Connections accepted so far: proves a client really reached this bus. */
  accepted(): number
  /** Connections still open: 0 once every client has gone (or been killed). */
  open(): number
  stop(): Promise<void>
}

/** A unix socket that accepts connections and never answers: a keychain that hangs. */
export async function startHangingBus(): Promise<HangingBus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-hang-'))
  const socketPath = path.join(dir, 'bus')
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const server = net.createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.resume() // read and drop whatever the client says; never answer
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  return {
    address: `unix:path=${socketPath}`,
    accepted: () => accepted,
    open: () => sockets.size,
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until `condition()` holds, for at most `timeoutMs`; returns whether it did. */
export async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return false
    await delay(25)
  }
  return true
}

/**
 * A keyring for the enclosing describe block: started once, emptied of tokenctl's entries
 * after each test, stopped at the end. Returns a getter (the session exists only once
 * beforeAll has run).
 */
export function useKeyring(): () => KeyringSession | undefined {
  let keyring: KeyringSession | undefined
  beforeAll(async () => {
    keyring = await startKeyringOrFail()
  })
  afterAll(async () => {
    await keyring?.stop()
  })
  afterEach(async () => {
    await keyring?.secretTool(['clear', 'service', 'tokenctl'])
  })
  return () => keyring
}

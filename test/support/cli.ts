import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/**
 * Variables that change tokenctl's behaviour or point at the user's real files. Every
 * spawn starts from a clean slate, so a test behaves the same on a laptop and in CI
 * (where CI=true is set).
 */
const DROPPED =
  /^(CI|TOKENCTL_.*|XDG_.*|HOME|DBUS_SESSION_BUS_ADDRESS|NO_COLOR|FORCE_COLOR|BROWSER|GIT_.*|KUBECONFIG|KUBERNETES_.*|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/

export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const environ: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !DROPPED.test(key)) environ[key] = value
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete environ[key]
    else environ[key] = value
  }
  return environ
}

/** A throwaway HOME with its own config, state and runtime dirs, removed by `cleanup()`. */
export class Sandbox {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-test-'))
  readonly home = path.join(this.dir, 'home')
  readonly configDir = path.join(this.dir, 'config')
  readonly runtimeDir = path.join(this.dir, 'run')

  constructor() {
    fs.mkdirSync(this.home, { mode: 0o700 })
    fs.mkdirSync(this.runtimeDir, { mode: 0o700 })
  }

  get configFile(): string {
    return path.join(this.configDir, 'config.json')
  }

  /** The environment of a tokenctl process in this sandbox; `extra` adds or (with undefined) drops. */
  env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    return cleanEnv({
      HOME: this.home,
      TOKENCTL_CONFIG_DIR: this.configDir,
      XDG_RUNTIME_DIR: this.runtimeDir,
      XDG_STATE_HOME: path.join(this.home, '.local', 'state'),
      // No Secret Service unless a test brings one: a keychain test must say so.
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/tokenctl-test-bus',
      ...extra,
    })
  }

  run(
    args: string[],
    options: { env?: Record<string, string | undefined>; input?: string | Buffer; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    return runCli(args, { env: this.env(options.env), input: options.input, timeoutMs: options.timeoutMs })
  }

  /**
   * Start the CLI and return at once, for a test that must act while it runs (approve a
   * device code it printed, browse to the URL it opened, send it a signal).
   */
  start(
    args: string[],
    options: { env?: Record<string, string | undefined>; input?: string | Buffer; timeoutMs?: number } = {},
  ): RunningCli {
    return startCli(args, { env: this.env(options.env), input: options.input, timeoutMs: options.timeoutMs })
  }

  /** Every regular file in the sandbox (HOME, config, runtime dirs), however deep. */
  files(dir = this.dir): string[] {
    const found: string[] = []
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) found.push(...this.files(full))
      else if (entry.isFile()) found.push(full)
    }
    return found
  }

  /** The files that hold `secret` anywhere in their bytes: the leak check. */
  filesContaining(secret: string): string[] {
    return this.files().filter((file) => fs.readFileSync(file).includes(secret))
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

export interface ProcessOptions {
  env: Record<string, string>
  cwd?: string
  input?: string | Buffer
  timeoutMs?: number
}

/** Run any program to its end and collect what it printed; killed after the timeout (30 s). */
export function runProcess(file: string, args: string[], options: ProcessOptions): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
    // A program may exit without reading its input; that is its answer, not a test error.
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
  })
}

export function runCli(args: string[], options: ProcessOptions & { bin?: string }): Promise<RunResult> {
  return runProcess(process.execPath, [options.bin ?? BIN, ...args], options)
}

/** A CLI process still running: what it printed so far, and ways to await a line or its end. */
export interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams
  /** stderr so far. */
  readonly stderr: string
  /** Resolves with the first match of `pattern` in stderr (as printed so far or later); rejects if the process ends first or after `timeoutMs`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** The process's end, as `runProcess` reports it. */
  readonly done: Promise<RunResult>
}

/** Spawn the CLI asynchronously (never synchronously: a server in this process must go on answering it). */
export function startCli(args: string[], options: ProcessOptions & { bin?: string }): RunningCli {
  const started = Date.now()
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let ended = false
  const watchers = new Set<() => void>()
  const notify = () => {
    for (const watcher of [...watchers]) watcher()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    notify()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      ended = true
      notify()
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
  child.stdin.on('error', () => undefined)
  child.stdin.end(options.input ?? '')
  return {
    child,
    get stderr() {
      return stderr
    },
    done,
    waitForStderr(pattern, timeoutMs = 30_000) {
      return new Promise<RegExpMatchArray>((resolve, reject) => {
        const deadline = setTimeout(
          () => finish(new Error(`no ${pattern} on stderr within ${timeoutMs} ms; stderr so far: ${stderr}`)),
          timeoutMs,
        )
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(deadline)
          watchers.delete(check)
          if (error) reject(error)
          else resolve(match!)
        }
        const check = () => {
          const match = stderr.match(pattern)
          if (match) finish(undefined, match)
          else if (ended) finish(new Error(`the process ended without ${pattern} on stderr: ${stderr}`))
        }
        watchers.add(check)
        check()
      })
    },
  }
}

/**
 * Runs a command both ways, by the fast path of bin/run.js and by the full oclif path
 * (TOKENCTL_FAST_PATH=0), with a marker (which-path.mjs, loaded by `node --import`) that
 * records which path really served each run.
 */
import fs from 'node:fs'
import path from 'node:path'

import { BIN, ROOT, runProcess, type Sandbox } from './cli.js'

export interface PathRun {
  code: number | null
  stdout: string
  stderr: string
  /** 'fast' or 'full': which path served the run. */
  path: string
}

let runs = 0

export interface BothWaysOptions {
  /** stdin of each run. */
  input?: string
  /**
   * Run at a real terminal (util-linux `script` gives it a pty): colour then follows isatty,
   * and stdout and stderr arrive together, in the order written, as `stdout`.
   */
  terminal?: boolean
}

/** The same command in the same state, first as it comes (fast path allowed), then forced to the full path. */
export async function runBothWays(
  sandbox: Sandbox,
  args: string[],
  env: Record<string, string | undefined> = {},
  options: BothWaysOptions = {},
): Promise<{ fast: PathRun; full: PathRun }> {
  const run = async (fast: boolean): Promise<PathRun> => {
    const marker = path.join(sandbox.dir, `which-${++runs}-${fast ? 'fast' : 'full'}`)
    const argv = ['--import', path.join(ROOT, 'test', 'support', 'which-path.mjs'), BIN, ...args]
    const environ = sandbox.env({
      ...env,
      WHICH_PATH_FILE: marker,
      TOKENCTL_FAST_PATH: fast ? undefined : '0',
      ...(options.terminal ? { TERM: 'dumb' } : {}),
    })
    const result = options.terminal
      ? await runProcess('script', ['-qfec', [process.execPath, ...argv].map(quote).join(' '), '/dev/null'], {
          env: environ,
          input: options.input,
        })
      : await runProcess(process.execPath, argv, { env: environ, input: options.input })
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, path: fs.readFileSync(marker, 'utf8') }
  }
  const fast = await run(true)
  const full = await run(false)
  expect(full.path).toBe('full')
  return { fast, full }
}

/** A word for `sh -c`, whatever it holds. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`

/**
 * `expiresIn` counts seconds at run time, so two runs differ by however long the second one
 * took to start (seconds on a loaded CI machine); `expiresAt` still has to match exactly.
 */
export function expectSameOutput(fast: string, full: string): void {
  const seconds = (text: string) => Number(/"expiresIn":(\d+)/.exec(text)?.[1] ?? 0)
  expect(Math.abs(seconds(fast) - seconds(full))).toBeLessThanOrEqual(30)
  expect(fast.replace(/"expiresIn":\d+/, '"expiresIn":N')).toBe(full.replace(/"expiresIn":\d+/, '"expiresIn":N'))
}

/** An audit-log line (docs/design.md#audit-log): a login for `env` whose credentials were rejected `minutesAgo` minutes ago. */
export function rejectedLogin(env: string, minutesAgo = 0): string {
  const time = new Date(Date.now() - minutesAgo * 60_000).toISOString()
  return `${JSON.stringify({ time, env, event: 'login', outcome: 'failure', reason: 'credentials rejected', exitCode: 4, error: 'CredentialsRejectedError', command: 'login', protocol: 'api', pid: 1 })}\n`
}

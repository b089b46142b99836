import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { UsageError } from '../base/errors.js'
import { isLoopbackHost } from '../base/url-policy.js'
import { shellQuote } from '../util/shell-quote.js'
import { withoutSecretVariables } from '../base/credentials.js'

const execFileAsync = promisify(execFile)

/** git, started without the variables that buy tokens: it needs none of them. */
function runGit(args: string[], options: { cwd?: string; environ?: NodeJS.ProcessEnv; timeout?: number }) {
  const { cwd, environ, timeout } = options
  return execFileAsync('git', args, { cwd, timeout, env: withoutSecretVariables(environ ?? process.env) })
}

/** What git runs for tokenctl: this Node binary and this script, both absolute. */
export interface HelperProgram {
  node: string
  script: string
}

export interface GitHelperSetup {
  hosts: string[]
  envName: string
  program: HelperProgram
  scope: 'global' | 'local'
  unset?: boolean
  cwd?: string
  environ?: NodeJS.ProcessEnv
  /** Windows paths are written with forward slashes: git for Windows runs the line in its own sh. */
  platform?: NodeJS.Platform
}

/**
 * docs/design.md#setup-git: per host, an empty `credential.<url>.helper` (git's way to drop
 * the helpers inherited from wider configs) and then ours. Every old entry for the key goes
 * first — an older tokenctl's line included — so running it twice leaves the same config.
 */
export async function configureGitHelper(setup: GitHelperSetup): Promise<string[]> {
  const keys: string[] = []
  const command = helperCommand(setup.program, setup.envName, setup.platform)
  for (const host of setup.hosts) {
    for (const scheme of schemesFor(host)) {
      const key = `credential.${scheme}://${host}.helper`
      await git(setup, ['--unset-all', key], [5])
      if (!setup.unset) {
        await git(setup, ['--add', key, ''])
        await git(setup, ['--add', key, command])
      }
      keys.push(key)
    }
  }
  return keys
}

/**
 * The helper line. git hands a value starting with `!` to `sh -c`, so every word that comes
 * from outside — the Node path, the script path, even the env name, though names are
 * validated — is single-quoted: no space, quote or `$` in a path can become code. Naming
 * Node itself is what makes the line work where `node` is not on PATH (a GUI app's git,
 * an nvm shell that is gone).
 */
export function helperCommand(
  program: HelperProgram,
  envName: string,
  platform: NodeJS.Platform = process.platform,
): string {
  const slashed = (file: string) => (platform === 'win32' ? file.replace(/\\/g, '/') : file)
  return `!${shellQuote(slashed(program.node))} ${shellQuote(slashed(program.script))} git-credential -e ${shellQuote(envName)}`
}

/** A tokenctl helper line read back: the programs it names (`node` absent in an older tokenctl's line). */
export interface ParsedHelper {
  node?: string
  script: string
  envName: string
}

/**
 * Reads back a line `helperCommand` wrote, or the older form that named only the script
 * (`!'/path/run.js' git-credential -e 'ENV'`); anything else is not ours.
 */
export function parseHelperCommand(value: string): ParsedHelper | undefined {
  if (!value.startsWith('!')) return undefined
  const words = singleQuotedWords(value.slice(1))
  if (!words) return undefined
  const tail = words.slice(-3)
  if (tail[0] !== 'git-credential' || tail[1] !== '-e' || tail[2] === undefined) return undefined
  const programs = words.slice(0, -3)
  if (programs.length === 1) return { script: programs[0]!, envName: tail[2] }
  if (programs.length === 2) return { node: programs[0]!, script: programs[1]!, envName: tail[2] }
  return undefined
}

/**
 * Words of a line made of plain words and POSIX single-quoted ones (`'a'\''b'` is `a'b`),
 * split on spaces; undefined for anything else (double quotes, backslashes outside a quote
 * escape, unclosed quotes), which tokenctl never writes.
 */
function singleQuotedWords(line: string): string[] | undefined {
  const words: string[] = []
  const pattern = /\s*((?:'[^']*'|\\'|[A-Za-z0-9_./:-])+)/y
  let at = 0
  while (at < line.length) {
    pattern.lastIndex = at
    const match = pattern.exec(line)
    if (!match) return line.slice(at).trim() === '' ? words : undefined
    words.push(match[1]!.replace(/'([^']*)'|\\'/g, (_, quoted: string | undefined) => quoted ?? "'"))
    at = pattern.lastIndex
  }
  return words
}

/** One `credential.<url>.helper` entry as git sees it (every scope, includes followed). */
export interface HelperEntry {
  url: string
  value: string
}

/**
 * Every credential helper git would consult here, or [] when git cannot say (not
 * installed, no config): a check built on it must never fail the command it serves.
 */
export async function readGitHelpers(environ?: NodeJS.ProcessEnv, cwd?: string): Promise<HelperEntry[]> {
  let stdout: string
  try {
    ;({ stdout } = await runGit(['config', '--null', '--get-regexp', '^credential\\..*\\.helper$'], {
      cwd,
      environ,
      timeout: 2000,
    }))
  } catch {
    return []
  }
  const entries: HelperEntry[] = []
  for (const record of stdout.split('\0')) {
    const newline = record.indexOf('\n')
    if (newline < 0) continue
    const key = record.slice(0, newline)
    const url = /^credential\.(.+)\.helper$/.exec(key)?.[1]
    if (url) entries.push({ url, value: record.slice(newline + 1) })
  }
  return entries
}

/** https always; plain http too for a loopback host (a local git server, as in tests). */
export function schemesFor(host: string): string[] {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return isLoopbackHost(name) ? ['https', 'http'] : ['https']
}

async function git(setup: GitHelperSetup, args: string[], okCodes: number[] = []): Promise<void> {
  try {
    await runGit(['config', `--${setup.scope}`, ...args], { cwd: setup.cwd, environ: setup.environ })
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { code?: string | number; stderr?: string }
    if (typeof failure.code === 'number' && okCodes.includes(failure.code)) return
    if (failure.code === 'ENOENT')
      throw new UsageError('git is not installed (or not on PATH).', 'Install git, then run this again.')
    const said =
      String(failure.stderr ?? '')
        .trim()
        .split('\n')[0] ?? ''
    throw new UsageError(
      `git config --${setup.scope} failed${said ? `: ${said}` : ''}.`,
      setup.scope === 'local'
        ? 'Run it inside a git repository, or drop --local.'
        : 'Check that your global git config is writable.',
    )
  }
}

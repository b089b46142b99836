import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import tty from 'node:tty'

import { withoutSecretVariables } from '../base/credentials.js'
import { UsageError } from '../base/errors.js'
import { type Platform, currentPlatform } from '../base/platform.js'
import { type IsFile, isFileOnDisk, resolveWindowsCommand, windowsLaunch } from './exec-windows.js'

/** Signals a person or a supervisor sends to "the program": the child gets them too. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']

/**
 * The signals tokenctl handles while its child runs, and those it passes on. On Windows it
 * passes none on: the console delivers Ctrl-C and Ctrl-Break to every process attached to
 * it, the child included, and `child.kill()` there is TerminateProcess, which would end the
 * child at once instead of letting it handle the key (docs/design.md#windows). It still
 * handles those two keys, so that it outlives them and passes on the child's exit code.
 */
export function signalHandling(platform: Pick<Platform, 'os'>): {
  handled: readonly NodeJS.Signals[]
  forwarded: readonly NodeJS.Signals[]
} {
  return platform.os === 'win32'
    ? { handled: ['SIGINT', 'SIGBREAK'], forwarded: [] }
    : { handled: FORWARDED, forwarded: FORWARDED }
}

/** What `spawn` is given: the command as typed on Linux and macOS, as resolved on Windows. */
function launchOf(
  command: string,
  args: string[],
  platform: Pick<Platform, 'os' | 'environ'>,
  isFile: IsFile,
): { file: string; args: string[]; windowsVerbatimArguments: boolean } {
  if (platform.os !== 'win32') return { file: command, args, windowsVerbatimArguments: false }
  const resolved = resolveWindowsCommand(command, platform, isFile)
  if (resolved === undefined) throw notFound(command)
  return windowsLaunch(resolved, args, platform)
}

/**
 * `exec --signal`: a signal name, with or without SIG, any case (HUP, usr1, SIGUSR2). Not on
 * Windows, where sending a signal to a process ends it instead of telling it something.
 */
export function signalNamed(text: string, platform: Pick<Platform, 'os'>): NodeJS.Signals {
  if (platform.os === 'win32') {
    throw new UsageError(
      '--signal is not available on Windows: a signal there ends the program instead of telling it.',
      'Have the program read $TOKENCTL_TOKEN_FILE again on each use, or when the file changes.',
    )
  }
  const upper = text.trim().toUpperCase()
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`
  if (!Object.hasOwn(os.constants.signals, name))
    throw new UsageError(
      `--signal "${text.slice(0, 20)}" is not a signal name.`,
      'Use a name such as HUP, USR1 or SIGUSR2.',
    )
  return name as NodeJS.Signals
}

function notFound(command: string): UsageError {
  return new UsageError(`Command not found: ${command}.`, 'Check the name, or give its full path.')
}

/**
 * The keys a terminal sends (Ctrl-C, Ctrl-\) go to its whole foreground process group,
 * the child included: passed on again, one Ctrl-C would reach the child twice (a program
 * that counts them, such as one that quits on the second, would quit at the first).
 */
const FROM_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT'])

/**
 * The child's environment: the token under `variable`, and none of the variables that buy
 * tokens (passwords, refresh tokens, client secrets, global and per-env forms). The child
 * is handed a token, not the power to mint more: whatever it runs, logs or leaks can only
 * ever show a token that expires.
 */
export function childEnvironment(
  environ: NodeJS.ProcessEnv,
  variable: string,
  token: string,
  platform: Pick<Platform, 'os'> = currentPlatform(environ),
): NodeJS.ProcessEnv {
  return { ...withoutSecretVariables(environ, platform), [variable]: token }
}

/**
 * Run `command` with `environ` (never the token in argv), stdio inherited, signals
 * forwarded (not on Windows), and resolve with the exit code to pass on: the child's own,
 * or 128 + the signal number when a signal ended it, as shells do. `platform` decides how
 * the command is found and started (`isFile` is how its files are looked at). `onSpawn` is
 * told of the child once it runs (`exec --keep-fresh` signals it after each new token).
 */
export function runWithToken(
  command: string,
  args: string[],
  environ: NodeJS.ProcessEnv,
  platform: Platform = currentPlatform(),
  isFile: IsFile = isFileOnDisk,
  onSpawn?: (child: ChildProcess) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let launch: ReturnType<typeof launchOf>
    try {
      launch = launchOf(command, args, platform, isFile)
    } catch (error) {
      reject(error)
      return
    }
    const { handled, forwarded } = signalHandling(platform)
    let child: ChildProcess | undefined
    // A handler stays for every signal, so that tokenctl itself outlives a Ctrl-C and
    // passes on the child's exit code; it only holds back what the terminal already sent.
    // In place before the child starts: the child may be up and noticed (its first output
    // read, a signal sent to tokenctl because of it) before this process runs another
    // line, and a signal with no handler yet would end tokenctl and orphan the child.
    const forward = (signal: NodeJS.Signals) => {
      if (!forwarded.includes(signal)) return
      if (FROM_TERMINAL.has(signal) && inTerminalForeground(platform)) return
      child?.kill(signal)
    }
    for (const signal of handled) process.on(signal, forward)
    const stopForwarding = () => {
      for (const signal of handled) process.off(signal, forward)
    }
    try {
      child = spawn(launch.file, launch.args, {
        stdio: 'inherit',
        env: environ,
        ...(launch.windowsVerbatimArguments ? { windowsVerbatimArguments: true } : {}),
      })
    } catch (error) {
      stopForwarding()
      reject(error)
      return
    }
    if (child.pid !== undefined) onSpawn?.(child)
    child.on('error', (error: NodeJS.ErrnoException) => {
      stopForwarding()
      if (error.code === 'ENOENT') reject(notFound(command))
      else if (error.code === 'EACCES')
        reject(
          new UsageError(
            `${command} cannot be run (permission denied).`,
            'Make it executable, or give the right path.',
          ),
        )
      else reject(error)
    })
    child.on('exit', (code, signal) => {
      stopForwarding()
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0))
    })
  })
}

/**
 * Whether tokenctl runs in the foreground process group of its terminal, where a Ctrl-C
 * reaches every process of the group. Asked when a signal comes, since a shell's job
 * control can move it between foreground and background. Linux says it exactly
 * (/proc/self/stat: the process group against the terminal's foreground group); elsewhere
 * a stdin that is a terminal is the best sign. A signal sent with `kill` to a tokenctl
 * that has no terminal (a supervisor, CI, a test) is passed on as before.
 */
function inTerminalForeground(platform: Pick<Platform, 'os'>): boolean {
  if (platform.os === 'linux') {
    try {
      const stat = fs.readFileSync('/proc/self/stat', 'utf8')
      // "pid (comm) state ppid pgrp session tty_nr tpgid …"; comm may hold spaces and ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const pgrp = Number(fields[2])
      const tpgid = Number(fields[5])
      return tpgid > 0 && pgrp === tpgid
    } catch {
      // No /proc (a sandbox without it): as elsewhere.
    }
  }
  return tty.isatty(0)
}

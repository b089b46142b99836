import { spawn } from 'node:child_process'
import os from 'node:os'

import { UsageError } from '../core/errors.js'

/** Signals a person or a supervisor sends to "the program": the child gets them too. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']

/**
 * Run `command` with the token in its environment (never in argv), stdio inherited,
 * signals forwarded, and resolve with the exit code to pass on: the child's own, or
 * 128 + the signal number when a signal ended it, as shells do.
 */
export function runWithToken(command: string, args: string[], environ: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: environ })
    const forward = (signal: NodeJS.Signals) => child.kill(signal)
    for (const signal of FORWARDED) process.on(signal, forward)
    const stopForwarding = () => {
      for (const signal of FORWARDED) process.off(signal, forward)
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      stopForwarding()
      if (error.code === 'ENOENT') reject(new UsageError(`Command not found: ${command}.`, 'Check the name, or give its full path.'))
      else if (error.code === 'EACCES') reject(new UsageError(`${command} cannot be run (permission denied).`, 'Make it executable, or give the right path.'))
      else reject(error)
    })
    child.on('exit', (code, signal) => {
      stopForwarding()
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0))
    })
  })
}

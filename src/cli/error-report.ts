/**
 * How an error ends a command (docs/design.md#output-and-exit-codes), for both entry paths:
 * BaseCommand.catch and the fast path's status and env list (src/fast/status.ts) say the
 * same words through the same function, so they cannot drift apart. Node built-ins and lower layers only: the fast-path
 * bundle imports this, and must stay free of oclif.
 *
 * The words: the error's one sentence after "Error:", then its fix; with TOKENCTL_DEBUG=1
 * the stack too. An error that is not one of ours is a bug (exit 1) and says how to report
 * it. Every byte goes through the stderr redaction (voice.ts → stderr.ts).
 */
import { ExitCode, isTokenctlError, type TokenctlError } from '../base/errors.js'
import { withoutInvisible } from '../util/sanitize.js'
import { toStderr } from './stderr.js'
import type { Voice } from './voice.js'

export interface ErrorReport {
  exitCode: number
  /** The sentence after "Error: ". */
  message: string
  /** The lines under it: the fix, then (TOKENCTL_DEBUG=1) the stack. */
  more: string[]
}

const BUG_HINT = 'This is a bug in tokenctl; run again with TOKENCTL_DEBUG=1 and report what it prints.'

/** oclif's own errors (a bad flag, a missing argument, `this.exit()`): oclif prints them and knows their code. */
export function isOclifError(error: unknown): boolean {
  return Boolean((error as { oclif?: unknown } | undefined)?.oclif)
}

/** What the user is told, and the exit code, for an error that ends a command. */
export function errorReport(error: unknown, debug: boolean): ErrorReport {
  if (isTokenctlError(error)) {
    return {
      exitCode: error.exitCode,
      message: error.message,
      more: [...(error.fix ? [error.fix] : []), ...(debug && error.stack ? [error.stack] : [])],
    }
  }
  const unexpected = error as Error | undefined
  return {
    exitCode: ExitCode.internal,
    message: `unexpected internal error: ${unexpected?.message}`,
    more: [debug ? `${unexpected?.stack}` : BUG_HINT],
  }
}

/** Says the report on stderr, whatever --quiet says. */
export function writeErrorReport(report: ErrorReport, voice: Voice): void {
  voice.error(report.message, ...report.more)
}

/** An error told inside a warning that lets the command go on: its sentence and its fix on one line. */
export function errorInline(prefix: string, error: Error): string {
  return `${prefix}${error.message} ${(error as { fix?: string }).fix ?? ''}`.trim()
}

/**
 * git-credential's report (docs/design.md#git-credential): one line for the person behind
 * git, "tokenctl: …" rather than "Error: …" (git prints it among its own), the login
 * command when a login is needed, nothing on stdout. A login that is needed is exit 0 there
 * (git asks its next helper whatever the code); anything else keeps its code.
 */
export function gitCredentialReport(error: TokenctlError, envName: string): ErrorReport {
  const loginNeeded = error.exitCode === ExitCode.loginRequired
  return {
    exitCode: loginNeeded ? ExitCode.ok : error.exitCode,
    message: `${error.message}${loginNeeded ? ` Run: tokenctl login -e ${envName}` : ''}`,
    more: [],
  }
}

/** A credential helper's line on stderr, in git's manner. */
export function writeHelperNote(message: string): void {
  toStderr(withoutInvisible(`tokenctl: ${message}\n`))
}

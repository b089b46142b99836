/**
 * Every outcome (docs/design.md#output-and-exit-codes) is one error class carrying its exit code and the fix.
 * The CLI prints `message` and `fix`; nothing else of an error reaches the user
 * unless TOKENCTL_DEBUG=1.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  loginRequired: 3,
  rejected: 4,
  server: 5,
  storeUnavailable: 6,
  /** Ctrl-C during a login that waits for a person: the shell's 128 + SIGINT. */
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * What each exit code means, in the words every command's --help shows (cli/exit-codes-help.ts)
 * and docs/design.md#output-and-exit-codes spells out at length. A command adds its own detail
 * after these words, never instead of them.
 */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  [ExitCode.ok]: 'success',
  [ExitCode.internal]: 'unexpected internal error (a bug in tokenctl)',
  [ExitCode.usage]: 'usage or configuration error',
  [ExitCode.loginRequired]: 'login required',
  [ExitCode.rejected]: 'credentials rejected by the server',
  [ExitCode.server]: 'server or network failure',
  [ExitCode.storeUnavailable]: 'store unavailable',
  [ExitCode.interrupted]: 'interrupted (Ctrl-C) while waiting for a person',
}

/** `exec` ends with its command's code, which is none of the above and means what that command says. */
export const CHILD_EXIT_CODE_MEANING = "the command's own exit code (128 + N when signal N ended it)"

export abstract class TokenctlError extends Error {
  abstract readonly exitCode: ExitCodeValue
  /** One sentence telling the user what to do next, or undefined when there is nothing to do. */
  readonly fix?: string

  constructor(message: string, fix?: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.fix = fix
  }
}

/** Bad flag, bad value, unknown env, bad URL: exit 2. */
export class UsageError extends TokenctlError {
  readonly exitCode = ExitCode.usage
}

/** The config file cannot be read or is not ours to rewrite: exit 2. */
export class ConfigError extends TokenctlError {
  readonly exitCode = ExitCode.usage
}

/** No usable refresh token and no credentials from variables: exit 3. */
export class LoginRequiredError extends TokenctlError {
  readonly exitCode = ExitCode.loginRequired
}

/**
 * A stored entry that cannot be read (garbage in the keychain, a hand-edited file, a token
 * that is not a bearer token): as good as no login, so exit 3 with a message saying why.
 */
export class CorruptRecordError extends LoginRequiredError {}

/** The server said no to the credentials: exit 4. */
export class CredentialsRejectedError extends TokenctlError {
  readonly exitCode = ExitCode.rejected
}

/** Unreachable, timed out, 5xx or an answer we cannot read: exit 5. */
export class ServerError extends TokenctlError {
  readonly exitCode = ExitCode.server
}

/** The keychain (or another store) cannot be reached: exit 6. */
export class StoreUnavailableError extends TokenctlError {
  readonly exitCode = ExitCode.storeUnavailable
}

/** A person stopped a login that was waiting for them (Ctrl-C): nothing was stored. */
export class InterruptedError extends TokenctlError {
  readonly exitCode = ExitCode.interrupted
}

export function isTokenctlError(error: unknown): error is TokenctlError {
  return error instanceof TokenctlError
}

/** The exit code an error ends a command with: a typed error's own, anything else is a bug (1). */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return isTokenctlError(error) ? error.exitCode : ExitCode.internal
}

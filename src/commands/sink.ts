import path from 'node:path'

import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { firstKeptToken, keeperFor } from '../cli/keep-fresh.js'
import { minTtlFlag, parseMinTtl } from '../cli/min-ttl.js'
import { isoTime } from '../cli/time.js'
import { exitCodeOf, UsageError } from '../base/errors.js'
import { currentPlatform } from '../base/platform.js'
import { checkSinkTarget, parseFileMode, TokenFiles } from '../integrations/token-files.js'

/** What ends a sink that runs in the foreground: a supervisor's stop, a Ctrl-C, a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

export default class Sink extends BaseCommand<typeof Sink> {
  static override summary = 'Keep a token file (and a header file) fresh for a service, until stopped.'
  static override description = withExitCodes(
    `Runs in the foreground, for systemd, a container entrypoint or a supervisor: writes the env's access token to --file (no newline) and the line "Authorization: Bearer …" to --header-file, then replaces them atomically (a temp file in the same dir, then rename) before the token gets within --min-ttl of expiry, until SIGTERM, SIGINT or SIGHUP stops it (exit 0; the files stay, and the token in them expires on its own). --once writes them and exits. A refresh that fails is retried while the token in the files is valid; when it has expired and the refresh still fails, the sink stops with the failure's exit code, for the supervisor to restart it. It shares each refresh with every other tokenctl of the env, under the env's lock.

A target is refused (exit 2) in a directory other users can write or that is not yours or root's, when it is a symbolic link, or a file of another user; so is a --mode with bits for other users.`,
    [[0, '--once wrote the files, or the sink was stopped'], [2, 'also a refused target or mode'], 3, 4, 5, 6],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod --file /run/myapp/token',
    '<%= config.bin %> <%= command.id %> -e prod --file /run/myapp/token --header-file /run/myapp/header --mode 0640',
    {
      description: 'Write once, for a job that lives shorter than a token:',
      command: '<%= config.bin %> <%= command.id %> -e prod --file "$RUNTIME_DIRECTORY/token" --once',
    },
  ]

  static override flags = {
    file: Flags.string({ summary: 'Keep the token (no newline) in this file.', helpValue: 'PATH' }),
    'header-file': Flags.string({
      summary: 'Keep "Authorization: Bearer …" in this file, for curl -H @PATH.',
      helpValue: 'PATH',
    }),
    mode: Flags.string({
      summary: 'Mode of the files: 0600, or 0640 to share them with their group.',
      default: '0600',
      helpValue: 'MODE',
    }),
    once: Flags.boolean({ summary: 'Write the files once and exit.' }),
    'min-ttl': minTtlFlag('Renew the files before the token gets this close to expiry (90s, 10m, 1h).'),
  }

  public async run(): Promise<void> {
    const { file, 'header-file': headerFile } = this.flags
    if (file === undefined && headerFile === undefined)
      throw new UsageError('sink needs a file to write.', 'Run: tokenctl sink --file PATH (and/or --header-file PATH)')
    const targets = {
      ...(file === undefined ? {} : { token: path.resolve(file) }),
      ...(headerFile === undefined ? {} : { header: path.resolve(headerFile) }),
    }
    if (targets.token !== undefined && targets.token === targets.header)
      throw new UsageError('--file and --header-file name the same file.', 'Give each its own path.')
    const mode = parseFileMode(this.flags.mode)
    const minTtlMs = parseMinTtl(this.flags['min-ttl'])
    const platform = currentPlatform(this.environ)
    // Refused before anything is asked of the server: a target that would fail later fails now.
    for (const target of Object.values(targets)) checkSinkTarget(target, platform)

    const { env, session } = await this.context()
    // --once renews nothing: any token that is valid now will do, however short its life.
    const first = this.flags.once
      ? await session.getToken({ minTtlMs })
      : await firstKeptToken(session, minTtlMs, this.flags['min-ttl'])
    const files = new TokenFiles(targets, mode, (target) => checkSinkTarget(target, platform))
    const where = Object.values(targets).join(' and ')
    const wrote = (expiresAt: number) =>
      this.info(`Wrote a token for "${env.name}", valid until ${isoTime(expiresAt)}, to ${where}.`)
    if (this.flags.once) {
      files.write(first.accessToken)
      wrote(first.accessExpiresAt)
      return
    }

    const keeper = keeperFor(session, this.voice, {
      minTtlMs,
      initial: first,
      onToken: (token) => {
        files.write(token.accessToken)
        wrote(token.accessExpiresAt)
      },
      whenExpired: 'The sink stops.',
      stopWhenExpired: true,
    })
    // In place before the first write: a supervisor that stops the sink as soon as it has
    // said so must get exit 0, not a death by its signal. A stop before start() ends the loop at once.
    const stop = () => void keeper.stop()
    for (const signal of STOP_SIGNALS) process.on(signal, stop)
    try {
      files.write(first.accessToken)
      wrote(first.accessExpiresAt)
      const end = await keeper.start()
      if (end.failure !== undefined) this.exit(exitCodeOf(end.failure))
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, stop)
    }
  }
}

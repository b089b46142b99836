import type { ChildProcess } from 'node:child_process'

import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { firstKeptToken, keeperFor } from '../cli/keep-fresh.js'
import { minTtlFlag, parseMinTtl } from '../cli/min-ttl.js'
import { UsageError } from '../base/errors.js'
import { runtimeDir } from '../base/paths.js'
import { currentPlatform } from '../base/platform.js'
import { isShellVariable } from '../integrations/formats.js'
import { childEnvironment, runWithToken, signalNamed } from '../integrations/exec.js'
import { ExecTokenDir } from '../integrations/token-files.js'

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary = 'Run a command with a fresh access token in its environment.'
  static override description = withExitCodes(
    `The token goes into $TOKENCTL_TOKEN (or --var NAME), never into argv, so it stays out of the process list. The variables that hold passwords, refresh tokens and client secrets (TOKENCTL_PASSWORD, TOKENCTL_<ENV>_REFRESH_TOKEN, …) are removed from the command's environment. stdio is the command's own, signals are passed on (a Ctrl-C at the terminal reaches the command once; on Windows the console delivers Ctrl-C itself and nothing is passed on; .cmd and .bat files are found through PATHEXT and run with every argument quoted), and tokenctl exits with the command's exit code (128 + N when signal N ended it).

With --keep-fresh, for a command that runs longer than a token lives, tokenctl stays beside it and keeps two files fresh: $TOKENCTL_TOKEN_FILE (the token, no newline) and $TOKENCTL_HEADER_FILE (the line "Authorization: Bearer …", for curl -H @"$TOKENCTL_HEADER_FILE"). Both are 0600 in a fresh 0700 dir of the runtime dir, replaced atomically before the token gets within --min-ttl of expiry, and deleted when the command ends, however it ends. A refresh that fails is retried while the token in the files is valid, then reported; the command keeps running. $TOKENCTL_TOKEN holds the first token.`,
    [[2, 'also a command not found or not executable'], 3, 4, 5, 6],
    { child: true },
  )
  static override strict = false
  static override examples = [
    '<%= config.bin %> <%= command.id %> -- sh -c \'curl -H "Authorization: Bearer $TOKENCTL_TOKEN" https://api.example.com/v1/items\'',
    '<%= config.bin %> <%= command.id %> -e prod --var API_TOKEN -- ./deploy.sh --dry-run',
    {
      description: 'A long job that reads the token from a file kept fresh:',
      command:
        '<%= config.bin %> <%= command.id %> --keep-fresh -- sh -c \'while sleep 60; do curl -H @"$TOKENCTL_HEADER_FILE" https://api.example.com/v1/items; done\'',
    },
    {
      description: 'Tell a server with SIGHUP when the files change:',
      command: '<%= config.bin %> <%= command.id %> --keep-fresh --signal HUP -- ./server --token-file-from-env',
    },
  ]

  static override flags = {
    var: Flags.string({
      summary: 'The variable that carries the token.',
      default: 'TOKENCTL_TOKEN',
      helpValue: 'NAME',
    }),
    'min-ttl': minTtlFlag(
      'The token handed out outlives this (90s, 10m, 1h); with --keep-fresh, the files are renewed before it gets this close to expiry.',
    ),
    'keep-fresh': Flags.boolean({
      summary: 'Keep $TOKENCTL_TOKEN_FILE and $TOKENCTL_HEADER_FILE fresh while the command runs.',
    }),
    signal: Flags.string({
      summary: 'Send the command this signal after each renewal of the files (HUP, USR1, …).',
      dependsOn: ['keep-fresh'],
      helpValue: 'SIGNAL',
    }),
  }

  public async run(): Promise<void> {
    // oclif's non-strict argv is re-sorted by each word's first position in the whole command
    // line, so a word that repeats an earlier one (`sh -c 'echo "$@"' sh a`, or `-e` after an
    // `-e prod`) moves. Take what follows `--` from the raw argv, as it was typed.
    const dashdash = this.argv.indexOf('--')
    const [command, ...args] = dashdash === -1 ? this.rest : this.argv.slice(dashdash + 1)
    if (!command) throw new UsageError('exec needs a command to run.', 'Run: tokenctl exec -- CMD ARGS…')
    if (!isShellVariable(this.flags.var)) {
      throw new UsageError(
        `--var "${this.flags.var.slice(0, 40)}" is not a variable name.`,
        'Use letters, digits and _, not starting with a digit.',
      )
    }
    const minTtlMs = parseMinTtl(this.flags['min-ttl'])
    const platform = currentPlatform(this.environ)
    const signal = this.flags.signal === undefined ? undefined : signalNamed(this.flags.signal, platform)
    const { session } = await this.context()
    if (!this.flags['keep-fresh']) {
      const token = await session.getToken({ minTtlMs })
      const environ = childEnvironment(this.environ, this.flags.var, token.accessToken, platform)
      process.exitCode = await runWithToken(command, args, environ, platform)
      return
    }

    const first = await firstKeptToken(session, minTtlMs, this.flags['min-ttl'])
    const tokenDir = new ExecTokenDir(runtimeDir(this.environ, platform), platform)
    try {
      const { files } = tokenDir
      files.write(first.accessToken)
      let child: ChildProcess | undefined
      const keeper = keeperFor(session, this.voice, {
        minTtlMs,
        initial: first,
        onToken: (token) => {
          files.write(token.accessToken)
          if (signal) child?.kill(signal)
        },
        whenExpired: 'tokenctl keeps trying.',
      })
      const environ = {
        ...childEnvironment(this.environ, this.flags.var, first.accessToken, platform),
        TOKENCTL_TOKEN_FILE: files.targets.token,
        TOKENCTL_HEADER_FILE: files.targets.header,
      }
      process.exitCode = await runWithToken(command, args, environ, platform, undefined, (spawned) => {
        child = spawned
        void keeper.start()
      })
      // The files go as the command ends; tokenctl still waits for a refresh in flight, which
      // may be saving a rotated refresh token (the loop writes nothing once stopped).
      const stopping = keeper.stop()
      tokenDir.remove()
      await stopping
    } finally {
      tokenDir.remove()
    }
  }
}

import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { UsageError } from '../base/errors.js'
import { currentPlatform } from '../base/platform.js'
import { isShellVariable } from '../integrations/formats.js'
import { childEnvironment, runWithToken } from '../integrations/exec.js'

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary = 'Run a command with a fresh access token in its environment.'
  static override description = withExitCodes(
    `The token goes into $TOKENCTL_TOKEN (or --var NAME), never into argv, so it stays out of the process list. The variables that hold passwords, refresh tokens and client secrets (TOKENCTL_PASSWORD, TOKENCTL_<ENV>_REFRESH_TOKEN, …) are removed from the command's environment. stdio is the command's own, signals are passed on (a Ctrl-C at the terminal reaches the command once; on Windows the console delivers Ctrl-C itself and nothing is passed on; .cmd and .bat files are found through PATHEXT and run with every argument quoted), and tokenctl exits with the command's exit code (128 + N when signal N ended it).`,
    [[2, 'also a command not found or not executable'], 3, 4, 5, 6],
    { child: true },
  )
  static override strict = false
  static override examples = [
    '<%= config.bin %> <%= command.id %> -- sh -c \'curl -H "Authorization: Bearer $TOKENCTL_TOKEN" https://api.example.com/v1/items\'',
    '<%= config.bin %> <%= command.id %> -e prod --var API_TOKEN -- ./deploy.sh --dry-run',
  ]

  static override flags = {
    var: Flags.string({
      summary: 'The variable that carries the token.',
      default: 'TOKENCTL_TOKEN',
      helpValue: 'NAME',
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
    const { session } = await this.context()
    const token = await session.getToken()
    const platform = currentPlatform(this.environ)
    const code = await runWithToken(
      command,
      args,
      childEnvironment(this.environ, this.flags.var, token.accessToken, platform),
      platform,
    )
    process.exitCode = code
  }
}

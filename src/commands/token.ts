import { Flags } from '@oclif/core'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { minTtlFlag, parseMinTtl } from '../cli/min-ttl.js'
import { UsageError } from '../base/errors.js'
import { formatToken, isShellVariable, TOKEN_FORMATS, type TokenFormat } from '../integrations/formats.js'
import { formatDuration } from '../util/duration.js'

export default class Token extends BaseCommand<typeof Token> {
  static override summary = 'Print a fresh access token, and nothing else, on stdout.'
  static override description = withExitCodes(
    `Serves the cached access token while it outlives --min-ttl; otherwise refreshes it with the stored refresh token (or logs in again with TOKENCTL_USERNAME/TOKENCTL_PASSWORD when those are set). Many tokenctl processes at once cause one refresh.`,
    [[0, 'the token is printed'], 2, 3, 4, 5, 6],
  )

  static override examples = [
    {
      description: 'In a script:',
      command:
        'curl -H "Authorization: Bearer $(<%= config.bin %> <%= command.id %>)" https://api.example.com/v1/items',
    },
    {
      description: 'Keep the token out of the process list:',
      command: '<%= config.bin %> <%= command.id %> -f header | curl -H @- https://api.example.com/v1/items',
    },
    {
      description: 'A curl config line:',
      command: 'curl -K <(<%= config.bin %> <%= command.id %> -f curl) https://api.example.com/v1/items',
    },
    {
      description: 'For the shell:',
      command: 'eval "$(<%= config.bin %> <%= command.id %> -e prod -f env --var API_TOKEN)"',
    },
    { description: 'A token good for at least an hour:', command: '<%= config.bin %> <%= command.id %> --min-ttl 1h' },
  ]

  static override flags = {
    format: Flags.string({ char: 'f', summary: 'Output format.', options: [...TOKEN_FORMATS], default: 'token' }),
    'min-ttl': minTtlFlag(),
    'force-refresh': Flags.boolean({ summary: 'Skip the cache and refresh now.' }),
    var: Flags.string({ summary: 'Variable name for -f env.', default: 'TOKENCTL_TOKEN', helpValue: 'NAME' }),
  }

  public async run(): Promise<void> {
    const minTtlMs = parseMinTtl(this.flags['min-ttl'])
    if (!isShellVariable(this.flags.var)) {
      throw new UsageError(
        `--var "${this.flags.var.slice(0, 40)}" is not a shell variable name.`,
        'Use letters, digits and _, not starting with a digit.',
      )
    }
    const { env, session } = await this.context()
    const token = await session.getToken({ minTtlMs, forceRefresh: this.flags['force-refresh'] })
    const left = token.accessExpiresAt - Date.now()
    if (token.source !== 'cache' && left < minTtlMs) {
      this.warning(
        `The server grants tokens for ${formatDuration(left)}, less than --min-ttl ${this.flags['min-ttl']}; printing it anyway.`,
      )
    }
    writeStdout(
      formatToken(this.flags.format as TokenFormat, {
        env: env.name,
        accessToken: token.accessToken,
        accessExpiresAt: token.accessExpiresAt,
        variable: this.flags.var,
      }),
    )
  }
}

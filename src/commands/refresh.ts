import { Flags } from '@oclif/core'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { expiresPhrase } from '../cli/time.js'

export default class Refresh extends BaseCommand<typeof Refresh> {
  static override summary = 'Refresh the access token now.'
  static override description = withExitCodes(
    'Uses the stored refresh token (a rotated one replaces it); when the server rejects it and TOKENCTL_USERNAME/TOKENCTL_PASSWORD are set, logs in again with them. Prints the new expiry on stderr, the token only with --print.',
    [0, 2, 3, 4, 5, 6],
  )
  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    '<%= config.bin %> <%= command.id %> --print > token.txt',
  ]

  static override flags = {
    print: Flags.boolean({ summary: 'Print the new access token on stdout.' }),
  }

  public async run(): Promise<void> {
    const { env, session } = await this.context()
    const token = await session.getToken({ forceRefresh: true })
    this.info(`Refreshed ${env.name}: the access token ${expiresPhrase(token.accessExpiresAt)}.`)
    if (this.flags.print) writeStdout(`${token.accessToken}\n`)
  }
}

import { Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { withExitCodes } from '../../cli/exit-codes-help.js'
import { showEnvList, showEnvNames } from '../../cli/env-list-view.js'
import { listEnvs } from '../../core/envs.js'

export default class EnvList extends BaseCommand<typeof EnvList> {
  static override summary = 'List every env, the current one marked.'
  static override description = withExitCodes(
    'LOGGED IN is "yes" when a token can be had without a person (a live access or refresh token).',
    [[0, 'also when the store cannot be reached (a warning says so)'], 2],
  )
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {
      description: 'For scripts: an array of {name, current, protocol, url, user, loggedIn}.',
      command: '<%= config.bin %> <%= command.id %> --json',
    },
  ]

  static override flags = {
    json: Flags.boolean({ summary: 'Print JSON.' }),
    names: Flags.boolean({
      summary: 'Print only the names, one a line (asks no store; used by shell completion).',
      exclusive: ['json'],
    }),
  }

  public async run(): Promise<void> {
    const data = this.openConfig().read()
    if (this.flags.names) return showEnvNames(data, this.voice)
    const { envs, storeError } = await listEnvs(data, await this.store(), this.environ)
    showEnvList(envs, storeError, this.flags, this.voice)
  }
}

import { Args } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { withExitCodes } from '../../cli/exit-codes-help.js'
import { useEnv } from '../../core/envs.js'

export default class EnvUse extends BaseCommand<typeof EnvUse> {
  static override summary = 'Make an env the current one.'
  static override description = withExitCodes(
    'Commands without -e/--env and without $TOKENCTL_ENV work on the current env.',
    [0, 2],
  )
  static override examples = ['<%= config.bin %> <%= command.id %> prod']

  static override args = {
    name: Args.string({ description: 'Name of a known env.', required: true }),
  }

  public async run(): Promise<void> {
    await useEnv(this.openConfig(), this.args.name)
    this.info(`Current env is now "${this.args.name}".`)
  }
}

import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { removeEnv } from '../../core/envs.js'

export default class EnvRemove extends BaseCommand<typeof EnvRemove> {
  static override summary = 'Remove an env and its secrets.'
  static override description = "Revokes the env's refresh token at the server (unless --no-revoke), deletes its secrets from the store, then the env."
  static override aliases = ['env rm']
  static override examples = ['<%= config.bin %> <%= command.id %> staging', '<%= config.bin %> <%= command.id %> old --no-revoke']

  static override args = {
    name: Args.string({ description: 'Env to remove.', required: true }),
  }

  static override flags = {
    'no-revoke': Flags.boolean({ summary: 'Delete locally without telling the server.' }),
  }

  public async run(): Promise<void> {
    const { secretsDeleted } = await removeEnv(this.openConfig(), await this.store(), this.args.name)
    this.info(`Removed env "${this.args.name}"${secretsDeleted ? ' and its secrets' : ''}.`)
  }
}

import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { withExitCodes } from '../../cli/exit-codes-help.js'
import { contextFor } from '../../core/context.js'
import { ServerError } from '../../base/errors.js'
import { removeEnv } from '../../core/envs.js'

export default class EnvRemove extends BaseCommand<typeof EnvRemove> {
  static override summary = 'Remove an env and its secrets.'
  static override description = withExitCodes(
    "Revokes the env's refresh token at the server (unless --no-revoke), deletes its secrets from the store, then the env. A server that cannot be reached only earns a warning: the env is removed all the same.",
    [0, 2, 6],
  )
  static override aliases = ['env rm']
  static override examples = [
    '<%= config.bin %> <%= command.id %> staging',
    '<%= config.bin %> <%= command.id %> old --no-revoke',
  ]

  static override args = {
    name: Args.string({ description: 'Env to remove.', required: true }),
  }

  static override flags = {
    'no-revoke': Flags.boolean({ summary: 'Delete locally without telling the server.' }),
  }

  public async run(): Promise<void> {
    const name = this.args.name
    const config = this.openConfig()
    const { secretsDeleted } = await removeEnv(config, name, async (settings) => {
      const { session, store } = await contextFor({ name, ...settings }, config.read(), this.contextOptions)
      this.track(store)
      if (this.flags['no-revoke']) return session.forget()
      try {
        const result = await session.revoke()
        // Made for another server (a hand-edited config): deleted here, never sent there. Its
        // own server still holds the session, and only the person can end it there.
        if (result.mismatch)
          this.warning(
            `${result.mismatch} Its tokens were deleted here without being sent to any server; revoke that session on its own server if it matters.`,
          )
        return result.hadTokens
      } catch (error) {
        if (!(error instanceof ServerError)) throw error
        this.warning(`Could not revoke at the server (${error.message}); the secrets were deleted here.`)
        return true
      }
    })
    this.info(`Removed env "${name}"${secretsDeleted ? ' and its secrets' : ''}.`)
  }
}

import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { ServerError, isTokenctlError } from '../base/errors.js'

export default class Revoke extends BaseCommand<typeof Revoke> {
  static override summary = "Revoke the env's refresh token at the server and delete its secrets."
  static override description = withExitCodes(
    'The local secrets are deleted even when the server cannot be reached; then tokenctl warns and exits 5. A server without revocation (404) gets a warning and exit 0.',
    [[0, 'also when the server has no revocation'], 2, [5, 'the secrets here are deleted all the same'], 6],
  )
  static override aliases = ['logout']
  static override examples = ['<%= config.bin %> <%= command.id %> -e prod', '<%= config.bin %> logout --all']

  static override flags = {
    all: Flags.boolean({ summary: 'Revoke every env.' }),
  }

  public async run(): Promise<void> {
    const contexts = this.flags.all ? await this.allContexts() : [await this.context()]
    if (contexts.length === 0) this.info('No envs; nothing to revoke.')
    const sessions = contexts.map((context) => context.session)
    let failed: ServerError | undefined
    for (const session of sessions) {
      const name = session.env.name
      try {
        const result = await session.revoke()
        if (!result.hadTokens) this.info(`Not logged in to ${name}; nothing to revoke.`)
        else if (result.mismatch)
          this.warning(
            `${result.mismatch} Its tokens were deleted here without being sent to any server; revoke that session on its own server if it matters.`,
          )
        else if (result.unreadable)
          this.warning(
            `The stored tokens of ${name} could not be read, so they could not be revoked at the server; they were deleted here.`,
          )
        else if (result.server === 'unsupported')
          this.warning(
            `The server of ${name} has no revocation; the tokens were deleted here but stay valid there until they expire.`,
          )
        else this.info(`Revoked and deleted the tokens of ${name}.`)
      } catch (error) {
        if (!isTokenctlError(error) || !(error instanceof ServerError)) throw error
        this.warning(`Could not revoke the tokens of ${name} at the server (${error.message}); they were deleted here.`)
        failed = error
      }
    }
    if (failed)
      throw new ServerError(
        'The server could not be told about the revocation.',
        'The local secrets are gone; revoke the session on the server side if it matters.',
      )
  }
}

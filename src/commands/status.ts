import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { showStatus, warnStaleGitHelpers } from '../cli/status-view.js'
import { type EnvStatus, statusOf } from '../core/status.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show who is logged in and until when.'
  static override description = withExitCodes(
    'Never prints a token and never refreshes. A token can be had without a person when there is a live login, or TOKENCTL_USERNAME/TOKENCTL_PASSWORD to log in with; scripts use the exit code as the check.',
    [[0, 'a token can be had without a person'], 2, [3, 'a login is needed (for one env or more, with --all)'], 6],
  )
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all',
    {
      description: 'In a script:',
      command: '<%= config.bin %> <%= command.id %> -e prod -q || <%= config.bin %> login -e prod',
    },
  ]

  static override flags = {
    all: Flags.boolean({ summary: 'Every env.' }),
    json: Flags.boolean({
      summary: 'Print JSON: {env, loggedIn, user, protocol, store, accessExpiresAt, refreshExpiresAt}.',
    }),
  }

  public async run(): Promise<void> {
    const contexts = this.flags.all ? await this.allContexts() : [await this.context()]
    const statuses: EnvStatus[] = []
    for (const context of contexts) statuses.push(await statusOf(context))
    await warnStaleGitHelpers(
      contexts.map((context) => context.env),
      this.environ,
      this.voice,
      this.flags.quiet,
    )
    const code = showStatus(statuses, this.flags, this.voice)
    if (code) this.exit(code)
  }
}

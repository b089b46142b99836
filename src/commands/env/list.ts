import { Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { colourFor, table } from '../../cli/output.js'
import { listEnvs } from '../../core/envs.js'

export default class EnvList extends BaseCommand<typeof EnvList> {
  static override summary = 'List every env, the current one marked.'
  static override description = 'LOGGED IN is "yes" when a token can be had without a person (a live access or refresh token).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'For scripts: an array of {name, current, protocol, url, user, loggedIn}.', command: '<%= config.bin %> <%= command.id %> --json' },
  ]

  static override flags = {
    json: Flags.boolean({ summary: 'Print JSON.' }),
    names: Flags.boolean({ summary: 'Print only the names, one a line (asks no store; used by shell completion).', exclusive: ['json'] }),
  }

  public async run(): Promise<void> {
    const data = this.openConfig().read()
    if (this.flags.names) {
      const names = Object.keys(data.envs).sort()
      if (names.length) this.out(names.join('\n'))
      return
    }
    const { envs, storeError } = await listEnvs(data, await this.store())
    if (storeError) this.warning(`Login states are unknown: ${storeError.message} ${(storeError as { fix?: string }).fix ?? ""}`.trim())
    if (this.flags.json) {
      this.outJson(envs)
      return
    }
    if (envs.length === 0) {
      this.info('No envs yet. Add one: tokenctl env add NAME --url URL')
      return
    }
    const colour = colourFor(process.stdout)
    const rows = [['', 'NAME', 'PROTOCOL', 'URL', 'USER', 'LOGGED IN']]
    for (const env of envs) {
      const state = env.loggedIn === null ? '?' : env.loggedIn ? 'yes' : 'no'
      rows.push([env.current ? '*' : '', env.current ? colour.bold(env.name) : env.name, env.protocol, env.url ?? '-', env.user ?? '-', state])
    }
    this.out(table(rows))
  }
}

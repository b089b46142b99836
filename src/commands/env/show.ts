import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { withExitCodes } from '../../cli/exit-codes-help.js'
import { errorInline } from '../../cli/error-report.js'
import { table } from '../../cli/output.js'
import { envSettingsOf } from '../../core/config-file.js'
import { printable } from '../../base/env-name.js'
import { summarize } from '../../core/envs.js'
import { unknownEnv } from '../../core/env-select.js'
import type { SecretRecord } from '../../stores/types.js'

/** Long enough for any real URL or scope list: `env show` is where a person reads them whole. */
const SHOWN_MAX = 2000

/** Keys whose JSON name scripts already read, shown to people under the flag's name (`--host`). */
const LABELS: Record<string, string> = { gitHosts: 'hosts' }

export default class EnvShow extends BaseCommand<typeof EnvShow> {
  static override summary = "Show one env's settings."
  static override description = withExitCodes(
    'Without NAME: the env selected by -e, $TOKENCTL_ENV or the current env. Shows no secret.',
    [0, 2],
  )
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> prod --json']

  static override args = {
    name: Args.string({ description: 'Env to show.' }),
  }

  static override flags = {
    json: Flags.boolean({ summary: 'Print JSON.' }),
  }

  public async run(): Promise<void> {
    const config = this.openConfig()
    const data = config.read()
    const name = this.args.name ?? this.selectEnv(config).name
    const settings = envSettingsOf(data, name)
    if (!settings) throw unknownEnv(name, data)

    let record: SecretRecord | undefined
    let reachable = true
    try {
      record = await (await this.store()).get(name)
    } catch (error) {
      reachable = false
      this.warning(errorInline('Login state is unknown: ', error as Error))
    }
    const shown = { ...summarize(data, name, record, reachable, this.environ), ...settings }
    if (this.flags.json) {
      this.outJson(shown)
      return
    }
    // Every value (and key) may come from a hand-edited config.json: printed through the sanitizer.
    const text = (value: unknown) => printable(String(value), SHOWN_MAX)
    const rows = Object.entries(shown)
      .filter(([key]) => key !== 'name')
      .map(([key, value]) => [
        `${printable(LABELS[key] ?? key)}:`,
        Array.isArray(value) ? value.map(text).join(', ') : value === null ? '-' : text(value),
      ])
    this.out(`${name}\n${table(rows).replace(/^/gm, '  ')}`)
  }
}

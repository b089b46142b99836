import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { table } from '../cli/output.js'
import { isoTime } from '../cli/time.js'
import { type AuditEntry, auditEnabled, auditFile, readAudit } from '../core/audit.js'
import { assertEnvName, printable } from '../base/env-name.js'
import { UsageError } from '../base/errors.js'
import { parseDuration } from '../util/duration.js'

export default class Audit extends BaseCommand<typeof Audit> {
  static override summary = 'Show the local audit log: logins, refreshes, revokes and their failures.'
  static override description = withExitCodes(
    `Every login, refresh, revoke, local deletion (forget, erase) and failure of one is kept as a JSON line in $XDG_STATE_HOME/tokenctl/audit.log (~/.local/state/tokenctl/audit.log): time, env, event, outcome, the reason and exit code of a failure, the command, and the pid. Never a token or password, and never a server's message: a reason is a fixed phrase. Cached tokens handed out are not events.

The log is rotated at 1 MiB into audit.log.1; both are shown, oldest first. TOKENCTL_AUDIT=off stops the recording (and the warning below).

Without -e, every env is shown, removed ones included; TOKENCTL_ENV and the current env do not filter.

After 3 rejected logins or refresh tokens for one env within 15 minutes (network failures do not count), every command for that env warns on stderr until a login works; -q silences it.`,
    [0, 2, 6],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> --since 24h',
    '<%= config.bin %> <%= command.id %> -e prod --since 7d',
    {
      description: 'Failures, in a script:',
      command: '<%= config.bin %> <%= command.id %> --json | jq \'.[] | select(.outcome == "failure")\'',
    },
  ]

  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only this env (default: every env).', helpGroup: 'GLOBAL' }),
    since: Flags.string({
      summary: 'Only events newer than this: a duration back from now (90m, 24h, 7d) or an ISO time.',
      helpValue: 'DURATION',
    }),
    json: Flags.boolean({ summary: 'Print a JSON array of the events, as they are in the log.' }),
  }

  public async run(): Promise<void> {
    const env = this.flags.env === undefined ? undefined : assertEnvName(this.flags.env)
    const since = this.flags.since === undefined ? undefined : parseSince(this.flags.since)
    if (!auditEnabled(this.environ))
      this.warning('TOKENCTL_AUDIT is off: nothing new is recorded. Showing what was recorded before.')
    const { entries, skipped } = readAudit(this.environ, { env, since })
    if (skipped > 0)
      this.warning(
        `${skipped} line${skipped === 1 ? '' : 's'} of the audit log could not be read and ${skipped === 1 ? 'was' : 'were'} skipped.`,
      )

    if (this.flags.json) {
      this.outJson(entries)
      return
    }
    if (entries.length === 0) {
      const scope = [env && `for ${env}`, since !== undefined && `since ${isoTime(since)}`].filter(Boolean).join(' ')
      this.info(`No events${scope ? ` ${scope}` : ''} in ${auditFile(this.environ)}.`)
      return
    }
    const header = ['TIME', 'ENV', 'EVENT', 'OUTCOME', 'COMMAND', 'PID', 'DETAILS']
    this.out(table([header, ...entries.map(row)]))
  }
}

function parseSince(text: string): number {
  const ms = parseDuration(text)
  if (ms !== undefined) return Date.now() - ms
  // Only full ISO dates: Date.parse would take "1" or "May" too.
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) && !Number.isNaN(Date.parse(text)))
    return Date.parse(text)
  throw new UsageError(
    `--since "${printable(text, 30)}" is neither a duration nor an ISO time.`,
    'Use, say, --since 24h, --since 7d or --since 2026-01-31T12:00:00Z.',
  )
}

/** A log may have been edited by hand: every cell is made printable. */
function row(entry: AuditEntry): string[] {
  const details: string[] = []
  if (entry.reason) details.push(`${entry.reason}${entry.exitCode === undefined ? '' : ` (exit ${entry.exitCode})`}`)
  if (entry.user) details.push(`as ${entry.user}`)
  if (entry.source) details.push(`from ${entry.source}`)
  if (entry.server === 'unsupported') details.push('server has no revocation')
  if (entry.endpoint) details.push(`${entry.endpoint} moved to ${entry.to ?? '?'}`)
  const cell = (value: unknown) => printable(value === undefined || value === null ? '-' : String(value), 64)
  return [
    isoTime(Date.parse(entry.time)) ?? '-',
    cell(entry.env),
    cell(entry.event),
    cell(entry.outcome),
    cell(entry.command),
    cell(entry.pid),
    printable(details.join(', ') || '-', 120),
  ]
}

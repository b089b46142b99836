import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { table } from '../cli/output.js'
import { describeExpiry, isoTime } from '../cli/time.js'
import { ExitCode } from '../core/errors.js'
import { type EnvStatus, statusOf } from '../core/status.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show who is logged in and until when.'
  static override description = 'Never prints a token and never refreshes. Exit 0 when a token can be had without a person (a live login, or TOKENCTL_USERNAME/TOKENCTL_PASSWORD to log in with), 3 when a login is needed: scripts use it as the check.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all',
    { description: 'In a script:', command: '<%= config.bin %> <%= command.id %> -e prod -q || <%= config.bin %> login -e prod' },
  ]

  static override flags = {
    all: Flags.boolean({ summary: 'Every env.' }),
    json: Flags.boolean({ summary: 'Print JSON: {env, loggedIn, user, protocol, store, accessExpiresAt, refreshExpiresAt}.' }),
  }

  public async run(): Promise<void> {
    const contexts = this.flags.all ? await this.allContexts() : [await this.context()]
    const statuses: EnvStatus[] = []
    for (const context of contexts) statuses.push(await statusOf(context))
    for (const status of statuses) if (status.problem) this.warning(status.problem)

    if (this.flags.json) {
      const shown = statuses.map(toJson)
      this.outJson(this.flags.all ? shown : shown[0])
    } else if (statuses.length === 0) {
      this.info('No envs yet. Add one: tokenctl env add NAME --url URL')
    } else {
      this.out(statuses.map(describe).join('\n\n'))
    }
    if (statuses.some((status) => !status.ready)) {
      const missing = statuses.filter((status) => !status.ready).map((status) => status.env)
      if (!this.flags.json) this.info(`Run: ${missing.map((env) => `tokenctl login -e ${env}`).join('; ')}`)
      this.exit(ExitCode.loginRequired)
    }
  }
}

function toJson(status: EnvStatus) {
  return {
    env: status.env,
    loggedIn: status.loggedIn,
    user: status.user,
    protocol: status.protocol,
    store: status.store,
    accessExpiresAt: isoTime(status.accessExpiresAt ?? undefined),
    refreshExpiresAt: isoTime(status.refreshExpiresAt ?? undefined),
  }
}

function describe(status: EnvStatus): string {
  const login = status.loggedIn
    ? `yes${status.user ? `, as ${status.user}` : ''}`
    : status.ready
      ? 'no, but TOKENCTL_* credentials can log in'
      : 'no'
  const rows = [
    ['logged in:', login],
    ['access token:', status.accessExpiresAt === null ? '-' : `expires ${describeExpiry(status.accessExpiresAt)}`],
    ['refresh token:', status.refreshExpiresAt === null ? '-' : `expires ${describeExpiry(status.refreshExpiresAt)}`],
    ['protocol:', `${status.protocol}${status.url ? `  ${status.url}` : ''}`],
    ['store:', status.store === 'file' ? `${status.storeLocation} (not the OS keychain)` : status.storeLocation],
  ]
  return `${status.env}\n${table(rows).replace(/^/gm, '  ')}`
}

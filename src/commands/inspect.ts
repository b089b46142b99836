import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { table } from '../cli/output.js'
import { describeExpiry, isoTime } from '../cli/time.js'
import { printable } from '../base/env-name.js'
import { type Inspection, inspectToken } from '../core/inspect.js'
import { formatDuration } from '../util/duration.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = "Decode the env's access token: JWT header, claims and time left."
  static override description = withExitCodes(
    `Shows what the access token says about itself, decoded and not verified: the JWT header and claims (sub, aud, scope, iat, exp and the rest) and the time left. Never prints the token or its signature.

By default it inspects the token that "tokenctl token" would hand out, by the same rules: a cached token that expires within 5 minutes is refreshed first. --no-refresh reads the kept token as it is, expired or not, without talking to the server.

An opaque (non-JWT) token is not an error: inspect says so and exits 0; with --json, "format" is "opaque" and header and claims are null. An encrypted JWT (JWE) shows its header only.`,
    [0, 2, 3, 4, 5, 6],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    {
      description: 'Without refreshing, even when expired:',
      command: '<%= config.bin %> <%= command.id %> -e prod --no-refresh',
    },
    {
      description: 'The scopes, in a script:',
      command: "<%= config.bin %> <%= command.id %> -e prod --json | jq -r '.claims.scope'",
    },
  ]

  static override flags = {
    refresh: Flags.boolean({
      summary: 'Refresh a token that runs low first, as "token" would (--no-refresh: never).',
      default: true,
      allowNo: true,
    }),
    json: Flags.boolean({ summary: 'Print JSON: {env, format, expiresAt, expiresIn, source, header, claims}.' }),
  }

  public async run(): Promise<void> {
    const inspection = await inspectToken(await this.context(), { refresh: this.flags.refresh })
    if (this.flags.json) this.outJson(toJson(inspection))
    else this.out(describe(inspection))
  }
}

function toJson(inspection: Inspection) {
  return {
    env: inspection.env,
    format: inspection.format,
    expiresAt: isoTime(inspection.expiresAt),
    // Negative once expired (only with --no-refresh).
    expiresIn: Math.floor((inspection.expiresAt - Date.now()) / 1000),
    source: inspection.source,
    header: inspection.format === 'opaque' ? null : inspection.header,
    claims: inspection.format === 'jwt' ? inspection.claims : null,
  }
}

const FORMATS = {
  jwt: 'JWT (decoded, signature not verified)',
  jwe: 'encrypted JWT (JWE): only its header can be read',
  opaque: 'opaque: not a JWT, so there are no claims to show',
}

/** docs/design.md#commands lists these first; the rest follow in the token's own order. */
const FIRST_CLAIMS = ['iss', 'sub', 'aud', 'scope', 'iat', 'nbf', 'exp']
const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp', 'auth_time', 'updated_at'])

function describe(inspection: Inspection): string {
  const lines = [
    table([
      ['env:', inspection.env],
      ['format:', FORMATS[inspection.format]],
      ['expires:', describeExpiry(inspection.expiresAt)],
      ['source:', inspection.source === 'store' ? 'store (not refreshed)' : inspection.source],
    ]),
  ]
  if (inspection.format !== 'opaque') lines.push('header:', section(inspection.header))
  if (inspection.format === 'jwt') lines.push('claims:', section(inspection.claims))
  return lines.join('\n')
}

function section(values: Record<string, unknown>): string {
  const keys = Object.keys(values)
  const ordered = [
    ...FIRST_CLAIMS.filter((key) => keys.includes(key)),
    ...keys.filter((key) => !FIRST_CLAIMS.includes(key)),
  ]
  if (ordered.length === 0) return '  (none)'
  return table(ordered.map((key) => [`${printable(key, 40)}:`, show(key, values[key])])).replace(/^/gm, '  ')
}

function show(key: string, value: unknown): string {
  if (TIME_CLAIMS.has(key) && typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e11) {
    const left = value * 1000 - Date.now()
    return `${value} (${isoTime(value * 1000)}, ${left > 0 ? `in ${formatDuration(left)}` : `${formatDuration(-left)} ago`})`
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return printable(value.join(', '), 200)
  if (typeof value === 'string') return printable(value, 200)
  return printable(JSON.stringify(value) ?? String(value), 200)
}

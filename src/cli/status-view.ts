import { printable } from '../base/env-name.js'
import { ExitCode } from '../base/errors.js'
import type { Env } from '../base/env-settings.js'
import type { Environ } from '../base/paths.js'
import { staleGitHelperWarnings } from '../core/git-helper-check.js'
import type { EnvStatus } from '../core/status.js'
import { table } from './output.js'
import { expiresPhrase, isoTime } from './time.js'
import type { Voice } from './voice.js'

export interface StatusView {
  all?: boolean
  json?: boolean
}

/**
 * docs/design.md#commands `status` as a person or a script sees it; the exit code it ends with (3 when a
 * login is needed). Shared by the command and the fast path of bin/run.js.
 */
export function showStatus(statuses: EnvStatus[], view: StatusView, voice: Voice): number {
  for (const status of statuses) if (status.problem) voice.warning(status.problem)
  if (view.json) {
    const shown = statuses.map(toJson)
    voice.outJson(view.all ? shown : shown[0])
  } else if (statuses.length === 0) {
    voice.info('No envs yet. Add one: tokenctl env add NAME --url URL')
  } else {
    voice.out(statuses.map(describe).join('\n\n'))
  }
  const missing = statuses.filter((status) => !status.ready).map((status) => status.env)
  if (missing.length === 0) return ExitCode.ok
  if (!view.json) voice.info(`Run: ${missing.map((env) => `tokenctl login -e ${env}`).join('; ')}`)
  return ExitCode.loginRequired
}

function toJson(status: EnvStatus) {
  return {
    env: status.env,
    loggedIn: status.loggedIn,
    user: shownUser(status),
    protocol: status.protocol,
    store: status.store,
    accessExpiresAt: isoTime(status.accessExpiresAt ?? undefined),
    refreshExpiresAt: isoTime(status.refreshExpiresAt ?? undefined),
  }
}

function describe(status: EnvStatus): string {
  const login = status.loggedIn
    ? `yes${status.user ? `, as ${shownUser(status)}` : ''}`
    : status.ready
      ? 'no, but TOKENCTL_* credentials can log in'
      : 'no'
  const rows = [
    ['logged in:', login],
    ['access token:', status.accessExpiresAt === null ? '-' : expiresPhrase(status.accessExpiresAt)],
    ['refresh token:', status.refreshExpiresAt === null ? '-' : expiresPhrase(status.refreshExpiresAt)],
    // Both from config.json, which may have been edited by hand.
    ['protocol:', `${printable(status.protocol, 20)}${status.url ? `  ${printable(status.url, 300)}` : ''}`],
    ['store:', status.store === 'file' ? `${status.storeLocation} (not the OS keychain)` : status.storeLocation],
  ]
  return `${status.env}\n${table(rows).replace(/^/gm, '  ')}`
}

/** The user name comes from a server or a store: printed only through the sanitizer. */
function shownUser(status: EnvStatus): string | null {
  return status.user ? printable(status.user, 128) : status.user
}

/**
 * Warns of each env whose git credential helper names a program that is gone. Skipped under
 * --quiet, which would silence it: a script's `status -q` pays no git call.
 */
export async function warnStaleGitHelpers(envs: Env[], environ: Environ, voice: Voice, quiet: boolean): Promise<void> {
  if (quiet) return
  for (const warning of await staleGitHelperWarnings(envs, environ)) voice.warning(warning)
}

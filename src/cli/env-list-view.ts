import type { ConfigData } from '../core/config-file.js'
import { printable } from '../base/env-name.js'
import type { EnvSummary } from '../core/envs.js'
import { errorInline } from './error-report.js'
import { table } from './output.js'
import type { Voice } from './voice.js'

export interface EnvListView {
  json?: boolean
  names?: boolean
}

/** `env list --names`: the config alone, no store asked (shell completion runs it often). */
export function showEnvNames(data: ConfigData, voice: Voice): void {
  const names = Object.keys(data.envs).sort()
  if (names.length) voice.out(names.join('\n'))
}

/** docs/design.md#commands `env list`, shared by the command and the fast path of bin/run.js. */
export function showEnvList(envs: EnvSummary[], storeError: Error | undefined, view: EnvListView, voice: Voice): void {
  if (storeError) voice.warning(errorInline('Login states are unknown: ', storeError))
  if (view.json) {
    voice.outJson(envs)
    return
  }
  if (envs.length === 0) {
    voice.info('No envs yet. Add one: tokenctl env add NAME --url URL')
    return
  }
  const colour = voice.stdoutColour()
  // The protocol and URL come from config.json, which may have been edited by hand: sanitized like a name.
  const rows = [['', 'NAME', 'PROTOCOL', 'URL', 'USER', 'LOGGED IN']]
  for (const env of envs) {
    const state = env.loggedIn === null ? '?' : env.loggedIn ? 'yes' : 'no'
    rows.push([
      env.current ? '*' : '',
      env.current ? colour.bold(env.name) : env.name,
      printable(env.protocol, 20),
      env.url ? printable(env.url, 300) : '-',
      env.user ? printable(env.user, 128) : '-',
      state,
    ])
  }
  voice.out(table(rows))
}

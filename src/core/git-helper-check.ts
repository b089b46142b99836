import fs from 'node:fs'

import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'
import type { Environ } from '../base/paths.js'
import { parseHelperCommand, readGitHelpers, schemesFor } from '../integrations/git-config.js'
import { gitHostsOf } from './git-hosts.js'

/**
 * docs/design.md#setup-git: a helper line names a Node binary and a script by absolute
 * path; after a Node upgrade, an nvm version removed or tokenctl moved, git would run a
 * program that is gone and get no token. One warning per env whose git hosts have such a
 * line, with the fix. One `git config` read for all the envs (a few milliseconds).
 */
export async function staleGitHelperWarnings(envs: Env[], environ: Environ): Promise<string[]> {
  if (envs.length === 0) return []
  const entries = await readGitHelpers(environ)
  const warnings: string[] = []
  for (const env of envs) {
    const urls = new Set(gitHostsOf(env).flatMap((host) => schemesFor(host).map((scheme) => `${scheme}://${host}`)))
    const gone = new Set<string>()
    for (const entry of entries) {
      if (!urls.has(entry.url)) continue
      const helper = parseHelperCommand(entry.value)
      if (!helper || helper.envName !== env.name) continue
      for (const file of [helper.node, helper.script]) if (file !== undefined && !fs.existsSync(file)) gone.add(file)
    }
    if (gone.size === 0) continue
    const named = [...gone]
      .sort()
      .map((file) => printable(file, 256))
      .join(' and ')
    const verb = gone.size > 1 ? 'exist' : 'exists'
    warnings.push(
      `git's credential helper for env ${env.name} names ${named}, which no longer ${verb}. Run: tokenctl setup-git -e ${env.name}`,
    )
  }
  return warnings
}

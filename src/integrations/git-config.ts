import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { UsageError } from '../base/errors.js'
import { isLoopbackHost } from '../base/url-policy.js'
import { shellQuote } from '../util/shell-quote.js'

const run = promisify(execFile)

export interface GitHelperSetup {
  hosts: string[]
  envName: string
  /** Absolute path of the tokenctl that git should run. */
  helperPath: string
  scope: 'global' | 'local'
  unset?: boolean
  cwd?: string
  environ?: NodeJS.ProcessEnv
}

/**
 * docs/design.md#commands `setup-git`: per host, an empty `credential.<url>.helper` (git's way to drop the
 * helpers inherited from wider configs) and then ours. The old entries for the host go
 * first, so running it twice leaves the same config.
 */
export async function configureGitHelper(setup: GitHelperSetup): Promise<string[]> {
  const keys: string[] = []
  // Both words reach git's `sh -c`: the env name is quoted as the path is, even though
  // names are validated (config file included), so that no name can ever become code.
  const command = `!${shellQuote(setup.helperPath)} git-credential -e ${shellQuote(setup.envName)}`
  for (const host of setup.hosts) {
    for (const scheme of schemesFor(host)) {
      const key = `credential.${scheme}://${host}.helper`
      await git(setup, ['--unset-all', key], [5])
      if (!setup.unset) {
        await git(setup, ['--add', key, ''])
        await git(setup, ['--add', key, command])
      }
      keys.push(key)
    }
  }
  return keys
}

/** https always; plain http too for a loopback host (a local git server, as in tests). */
function schemesFor(host: string): string[] {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return isLoopbackHost(name) ? ['https', 'http'] : ['https']
}

async function git(setup: GitHelperSetup, args: string[], okCodes: number[] = []): Promise<void> {
  try {
    await run('git', ['config', `--${setup.scope}`, ...args], { cwd: setup.cwd, env: setup.environ })
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { code?: string | number; stderr?: string }
    if (typeof failure.code === 'number' && okCodes.includes(failure.code)) return
    if (failure.code === 'ENOENT')
      throw new UsageError('git is not installed (or not on PATH).', 'Install git, then run this again.')
    const said =
      String(failure.stderr ?? '')
        .trim()
        .split('\n')[0] ?? ''
    throw new UsageError(
      `git config --${setup.scope} failed${said ? `: ${said}` : ''}.`,
      setup.scope === 'local'
        ? 'Run it inside a git repository, or drop --local.'
        : 'Check that your global git config is writable.',
    )
  }
}

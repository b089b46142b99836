import { Flags } from '@oclif/core'
import path from 'node:path'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { gitHost } from '../core/env-build.js'
import { UsageError } from '../base/errors.js'
import { addEnvHosts } from '../core/env-hosts.js'
import { gitHostsOf } from '../core/git-hosts.js'
import { configureGitHelper } from '../integrations/git-config.js'

export default class SetupGit extends BaseCommand<typeof SetupGit> {
  static override summary = "Make git use tokenctl's tokens for the env's git hosts."
  static override description = withExitCodes(
    `For each host (the host of the env's URL, the --host entries of "env add", and every --host given here) it writes, in your global git config (--local: this repository's), an empty credential.https://HOST.helper — which drops helpers inherited for that host — followed by "!'/path/to/node' '/path/to/tokenctl/bin/run.js' git-credential -e 'ENV'" — Node named by its absolute path, so git finds it where node is not on PATH (a GUI app, an nvm version since removed). Running it twice changes nothing; --unset removes the entries. Hosts given with --host are remembered on the env.`,
    [0, 2],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    '<%= config.bin %> <%= command.id %> -e prod --host git.example.com',
    '<%= config.bin %> <%= command.id %> -e prod --local',
    '<%= config.bin %> <%= command.id %> -e prod --unset',
  ]

  static override flags = {
    host: Flags.string({
      summary: 'Another git host (host[:port]); repeatable. Remembered on the env.',
      multiple: true,
      helpValue: 'HOST',
    }),
    local: Flags.boolean({ summary: "Write to this repository's git config instead of the global one." }),
    unset: Flags.boolean({ summary: 'Remove the entries instead.' }),
  }

  public async run(): Promise<void> {
    const config = this.openConfig()
    const env = this.selectEnv(config)
    const added = [...new Set((this.flags.host ?? []).map(gitHost))]
    const hosts = [...new Set([...gitHostsOf(env), ...added])]
    if (hosts.length === 0) {
      throw new UsageError(
        `Env "${env.name}" has no git hosts.`,
        `Name one: tokenctl setup-git -e ${env.name} --host git.example.com`,
      )
    }
    const keys = await configureGitHelper({
      hosts,
      envName: env.name,
      // This very Node and script: the line works whatever PATH git is started with.
      program: { node: process.execPath, script: path.resolve(process.argv[1] ?? 'tokenctl') },
      scope: this.flags.local ? 'local' : 'global',
      unset: this.flags.unset,
      environ: this.environ,
    })
    if (added.length && !this.flags.unset) await addEnvHosts(config, env.name, added)
    const where = this.flags.local ? 'this repository' : 'your global git config'
    this.info(
      this.flags.unset
        ? `Removed tokenctl from ${where} for: ${hosts.join(', ')}.`
        : `git now asks tokenctl (env ${env.name}) for: ${hosts.join(', ')} (${where}).`,
    )
    if (this.environ.TOKENCTL_DEBUG === '1') this.info(keys.join('\n'))
  }
}

import { Flags } from '@oclif/core'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { replaceToolConfig } from '../base/tool-config-file.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { gitHostsOf } from '../core/git-hosts.js'
import { UsageError } from '../base/errors.js'
import { shellQuote } from '../util/shell-quote.js'
import { dockerConfigPath, editDockerConfig, readDockerConfig } from '../integrations/docker-config.js'
import { DOCKER_HELPER_PROGRAM } from '../integrations/docker-credential.js'

export default class SetupDocker extends BaseCommand<typeof SetupDocker> {
  static override summary = "Make docker use tokenctl's tokens for the env's registry hosts."
  static override description = withExitCodes(
    `Adds a credHelpers entry "HOST": "tokenctl" to docker's config.json for each of the env's hosts (the host of its URL and every --host of "env add"), so that docker runs ${DOCKER_HELPER_PROGRAM} for them. Only the text of credHelpers changes, every other byte of the file stays as it was; the file is replaced atomically and keeps its mode (a new one is 0600). The file is $DOCKER_CONFIG/config.json, else ~/.docker/config.json. Running it twice changes nothing; --unset removes the entries for the env's hosts whose value is "tokenctl", and nothing else. A host whose entry names another helper (such as "ecr-login") is refused, with nothing written, unless --force: then it points at tokenctl, and the warning says which helper it replaced and the entry that gives it back. ${DOCKER_HELPER_PROGRAM} must be on the PATH docker runs with: it is when tokenctl was installed with npm; otherwise this command says how.`,
    [0, [2, 'also a bad config.json, or a foreign entry']],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    '<%= config.bin %> <%= command.id %> -e prod --unset',
    '<%= config.bin %> <%= command.id %> -e prod --force',
    'DOCKER_CONFIG=~/.docker-ci <%= config.bin %> <%= command.id %> -e ci --json',
  ]

  static override flags = {
    unset: Flags.boolean({ summary: "Remove tokenctl's entries instead.", exclusive: ['force'] }),
    force: Flags.boolean({ summary: "Replace another helper's entry for one of the env's hosts." }),
    json: Flags.boolean({ summary: 'Print {dockerConfig, env, hosts, changed, helperOnPath} on stdout.' }),
  }

  public async run(): Promise<void> {
    const env = this.selectEnv()
    const hosts = gitHostsOf(env)
    if (hosts.length === 0) {
      throw new UsageError(
        `Env "${env.name}" has no hosts.`,
        `Name one: tokenctl env add ${env.name} --url URL --host registry.example.com --force`,
      )
    }
    const file = dockerConfigPath(this.environ, this.environ.HOME || os.homedir())
    const { text, changes, replaced } = editDockerConfig(readDockerConfig(file), file, {
      hosts,
      unset: this.flags.unset,
    })
    if (replaced.length > 0 && !this.flags.force) {
      const entries = replaced.map(({ host, helper: other }) => entry(host, other)).join(', ')
      throw new UsageError(
        `${file} already names another credential helper: ${entries}. Nothing was changed.`,
        `Run again with --force to point ${replaced.length === 1 ? 'it' : 'them'} at tokenctl instead (the entry is then tokenctl's, and --unset removes it).`,
      )
    }
    if (changes.length > 0) replaceToolConfig(file, text)
    const helper = findOnPath(DOCKER_HELPER_PROGRAM, this.environ)
    if (this.flags.json) {
      this.outJson({
        dockerConfig: file,
        env: env.name,
        hosts,
        changed: changes.length > 0,
        helperOnPath: helper ?? null,
      })
    }
    for (const { host, helper: other } of replaced)
      this.warning(
        `${host} used another credential helper; it now uses tokenctl. To give it back, set ${entry(host, other)} in credHelpers of ${file}.`,
      )
    this.info(changes.length > 0 ? `${file}: ${changes.join('; ')}.` : `${file}: nothing to change.`)
    if (this.flags.unset) return
    if (helper) {
      this.info(`docker now asks tokenctl (env ${env.name}) for: ${hosts.join(', ')}.`)
      return
    }
    const script = path.join(path.dirname(path.resolve(process.argv[1] ?? 'tokenctl')), `${DOCKER_HELPER_PROGRAM}.js`)
    this.warning(
      `${DOCKER_HELPER_PROGRAM} is not on PATH, so docker cannot run it. Link it into a directory on PATH: ln -s ${shellQuote(script)} ~/.local/bin/${DOCKER_HELPER_PROGRAM} (an npm install -g of tokenctl puts it there itself).`,
    )
  }
}

/** A credHelpers entry as JSON writes it: the file's own words, control characters escaped. */
const entry = (host: string, helper: string): string => `${JSON.stringify(host)}: ${JSON.stringify(helper)}`

/** The first executable `name` on the PATH of `environ`, as docker looks it up (with PATHEXT on Windows). */
function findOnPath(name: string, environ: NodeJS.ProcessEnv): string | undefined {
  const extensions =
    process.platform === 'win32' ? ['', ...(environ.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)] : ['']
  for (const dir of (environ.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    for (const extension of extensions) {
      const candidate = path.join(dir, `${name}${extension}`)
      try {
        fs.accessSync(candidate, fs.constants.X_OK)
        if (fs.statSync(candidate).isFile()) return candidate
      } catch {
        // not here
      }
    }
  }
  return undefined
}

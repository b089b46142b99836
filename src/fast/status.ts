/**
 * `status` and `env list` in the fast path of bin/run.js: the same core and the same views
 * as the commands (status-view.ts, env-list-view.ts), without oclif's ~140 ms of loading.
 * What they would say is collected and let out only when all of it is known; anything
 * unexpected goes back, unsaid, to the full CLI.
 */
import { showEnvList, showEnvNames } from '../cli/env-list-view.js'
import { errorReport, writeErrorReport } from '../cli/error-report.js'
import { showStatus, warnStaleGitHelpers } from '../cli/status-view.js'
import { collectingSink, Voice } from '../cli/voice.js'
import { readConfigFile } from '../core/config-file.js'
import { type Context, type ContextOptions, contextFor } from '../core/context.js'
import { selectEnv } from '../core/env-select.js'
import { StoreUnavailableError } from '../base/errors.js'
import { listEnvs } from '../core/envs.js'
import { configFile, type Environ } from '../base/paths.js'
import { type EnvStatus, statusOf } from '../core/status.js'
import { chooseStoreKind, openStore } from '../stores/open.js'
import type { SecretStore } from '../stores/types.js'
import { parseFlags, stringFlag } from './argv.js'

type Closable = SecretStore & { close?: () => void }

export async function serveStatus(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, 'status')
  if (!flags) return false
  return speak(flags.has('quiet'), environ, async (voice, opened) => {
    const options: ContextOptions = {
      envFlag: stringFlag(flags, 'env'),
      storeFlag: stringFlag(flags, 'store'),
      environ,
      warn: (message) => voice.warning(message),
      userAgent: 'tokenctl',
      command: 'status',
    }
    const config = readConfigFile(configFile(environ))
    const contexts: Context[] = []
    const names = flags.has('all') ? Object.keys(config.envs).sort() : [undefined]
    for (const name of names) {
      const env = name === undefined ? selectEnv(options.envFlag, config, environ) : { name, ...config.envs[name]! }
      const context = await contextFor(env, config, options)
      opened.push(context.store)
      contexts.push(context)
    }
    const statuses: EnvStatus[] = []
    for (const context of contexts) statuses.push(await statusOf(context))
    await warnStaleGitHelpers(
      contexts.map((context) => context.env),
      environ,
      voice,
      flags.has('quiet'),
    )
    return showStatus(statuses, { all: flags.has('all'), json: flags.has('json') }, voice)
  })
}

export async function serveEnvList(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, 'env:list')
  // --names with --json is oclif's to refuse.
  if (!flags || (flags.has('names') && flags.has('json'))) return false
  return speak(flags.has('quiet'), environ, async (voice, opened) => {
    const data = readConfigFile(configFile(environ))
    if (flags.has('names')) {
      showEnvNames(data, voice)
      return 0
    }
    const store = await openStore(chooseStoreKind(stringFlag(flags, 'store'), environ), {
      environ,
      warn: (message) => voice.warning(message),
    })
    opened.push(store)
    const { envs, storeError } = await listEnvs(data, store, environ)
    showEnvList(envs, storeError, { json: flags.has('json') }, voice)
    return 0
  })
}

/**
 * Runs `work` with a voice that holds its words back; says them and sets the exit code
 * when it succeeds. A keychain that cannot be reached is said here as the full path says
 * it: handing over would only make the person wait for the keychain's timeout twice.
 */
async function speak(
  quiet: boolean,
  environ: Environ,
  work: (voice: Voice, opened: Closable[]) => Promise<number>,
): Promise<boolean> {
  const sink = collectingSink()
  const voice = new Voice(() => quiet, environ, sink)
  const opened: Closable[] = []
  try {
    const code = await work(voice, opened)
    sink.flush()
    process.exitCode = code
    return true
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) return false
    sink.flush()
    const report = errorReport(error, environ.TOKENCTL_DEBUG === '1')
    writeErrorReport(report, new Voice(() => quiet, environ))
    process.exitCode = report.exitCode
    return true
  } finally {
    for (const store of opened) store.close?.()
  }
}

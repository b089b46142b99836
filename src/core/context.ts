import { AccessCache } from '../stores/access-cache.js'
import { FallbackStore } from '../stores/fallback-store.js'
import { chooseStoreKind, openStore } from '../stores/open.js'
import type { SecretStore } from '../stores/types.js'
import type { AuthProtocol } from '../protocols/types.js'
import { Config, type ConfigData } from './config.js'
import { credentialsFromVariables, type VariableCredentials } from './credentials.js'
import { selectEnv } from './env-select.js'
import type { Env } from './env-settings.js'
import { UsageError } from './errors.js'
import { type Environ, runtimeDir } from './paths.js'
import { Session } from './session.js'
import { checkServerUrl } from './url-policy.js'

export interface ContextOptions {
  envFlag?: string
  storeFlag?: string
  environ: Environ
  warn: (message: string) => void
  userAgent: string
}

export interface Context {
  config: ConfigData
  env: Env
  store: SecretStore & { close?: () => void }
  credentials?: VariableCredentials
  session: Session
}

/** Everything a token command works with, from its flags and the environment. */
export async function openContext(options: ContextOptions): Promise<Context> {
  const config = new Config(options.environ).read()
  const env = selectEnv(options.envFlag, config, options.environ)
  return contextFor(env, config, options)
}

export async function contextFor(env: Env, config: ConfigData, options: ContextOptions): Promise<Context> {
  const { environ } = options
  // SPEC §4: a bad URL (2) is reported before an unreachable store (6); an env made from
  // variables never went through `env add`, so its URL is checked here, before any store call.
  if (env.fromVariables && env.protocol === 'api') checkServerUrl(env.url ?? '', 'TOKENCTL_URL', env.allowHttp)
  const credentials = credentialsFromVariables(environ, env)
  const explicit = Boolean(options.storeFlag || environ.TOKENCTL_STORE)
  const kind = chooseStoreKind(options.storeFlag, environ)
  const opened = await openStore(kind, { environ, warn: options.warn })
  let store: SecretStore & { close?: () => void } = opened
  let accessCache: AccessCache | undefined
  if (kind === 'keychain') {
    accessCache = new AccessCache(`${runtimeDir(environ)}/access`)
    if (!explicit && credentials) {
      const { FileStore } = await import('../stores/file-store.js')
      const fallback = new FallbackStore(opened, () => new FileStore(runtimeDir(environ), () => {}, 'cache'))
      store = Object.assign(fallback, { close: () => opened.close?.() })
    }
  }
  const session = new Session({
    env,
    store,
    accessCache,
    credentials,
    lockDir: `${runtimeDir(environ)}/locks`,
    protocol: () => protocolFor(env, environ, options.userAgent),
  })
  return { config, env, store, credentials, session }
}

async function protocolFor(env: Env, environ: Environ, userAgent: string): Promise<AuthProtocol> {
  if (env.protocol === 'api') {
    // Checked again here: an env made from variables, or a hand-edited config, never saw `env add`.
    const url = checkServerUrl(env.url ?? '', env.fromVariables ? 'TOKENCTL_URL' : 'The env URL', env.allowHttp)
    const { apiProtocol } = await import('../protocols/api.js')
    return apiProtocol({ ...env, url }, { environ, userAgent })
  }
  throw new UsageError(`The oauth2 protocol of env "${env.name}" is not supported by this version of tokenctl yet.`, 'Use an api env for now.')
}

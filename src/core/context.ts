import { AccessCache } from '../stores/access-cache.js'
import { FallbackStore } from '../stores/fallback-store.js'
import { FileStore } from '../stores/file-store.js'
import { chooseStoreKind, openStore } from '../stores/open.js'
import { RescuingStore } from '../stores/rescue-store.js'
import { traced } from '../stores/traced-store.js'
import type { SecretStore } from '../stores/types.js'
import type { AuthProtocol, ClientSecret } from '../protocols/types.js'
import { appendAudit, describeFailure, failedAttemptsWarning } from './audit.js'
import { type Binding, envBinding, storeKey } from '../base/binding.js'
import { Config, type ConfigData } from './config.js'
import { clientSecretFromVariables, credentialsFromVariables, type VariableCredentials } from '../base/credentials.js'
import { isDebug } from '../base/debug.js'
import { selectEnv } from './env-select.js'
import type { Env } from '../base/env-settings.js'
import { printable } from '../base/env-name.js'
import { UsageError } from '../base/errors.js'
import { accessCacheDir, type Environ, lockDir, runtimeDir } from '../base/paths.js'
import { Session, type SessionEvent } from './session.js'
import { checkServerUrl, checkVariableServer } from '../base/url-policy.js'
import { variable } from '../base/variables.js'

export interface ContextOptions {
  envFlag?: string
  storeFlag?: string
  environ: Environ
  warn: (message: string) => void
  userAgent: string
  /** The command being run, for the audit log. */
  command?: string
}

export interface Context {
  config: ConfigData
  env: Env
  /** Where the env's record is kept in the store (binding.ts storeKey): its name, for an env of the config. */
  key: string
  /** What a stored record must have been issued for to be used for this env. */
  binding: Binding
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
  // docs/design.md#output-and-exit-codes: a bad URL (2) is reported before an unreachable store (6); an env made from
  // variables never went through `env add`, so its URL is checked here, before any store call.
  checkVariableServer(env)
  // docs/design.md#audit-log: every command for an env with repeated rejections says so, before it does anything.
  const failures = failedAttemptsWarning(environ, env.name)
  if (failures) options.warn(failures)
  const credentials = credentialsFromVariables(environ, env)
  const explicit = Boolean(options.storeFlag || environ.TOKENCTL_STORE)
  const kind = chooseStoreKind(options.storeFlag, environ)
  const opened = await openStore(kind, { environ, warn: options.warn })
  let store: SecretStore & { close?: () => void } = opened
  let accessCache: AccessCache | undefined
  // The per-user cache file (docs/design.md#where-things-are-kept): the keychain's stand-in in CI, and where a rotated refresh token goes when the store fails.
  const runtimeCache = () => new FileStore(runtimeDir(environ), () => {}, 'cache')
  if (kind === 'keychain') {
    accessCache = new AccessCache(accessCacheDir(environ))
    if (!explicit && credentials) {
      const fallback = new FallbackStore(opened, runtimeCache)
      store = Object.assign(fallback, { close: () => opened.close?.() })
    }
  }
  store = new RescuingStore(store, runtimeCache(), options.warn)
  if (isDebug()) store = traced(store)
  const binding = envBinding(env, environ)
  const key = storeKey(env, environ, binding)
  const session = new Session({
    env,
    key,
    binding,
    store,
    accessCache,
    credentials,
    clientSecret: clientSecretFromVariables(environ, env),
    lockDir: lockDir(environ),
    warn: options.warn,
    protocol: (clientSecret) => protocolFor(env, environ, options.userAgent, clientSecret, options),
    onEvent: (event) => audit(event, env, options),
  })
  return { config, env, key, binding, store, credentials, session }
}

/** A session event as an audit line: the error only as its fixed reason, exit code and class. */
function audit({ error, ...event }: SessionEvent, env: Env, options: ContextOptions): void {
  appendAudit(
    options.environ,
    {
      ...event,
      ...(event.outcome === 'failure' ? describeFailure(error) : {}),
      command: options.command,
      protocol: env.protocol,
    },
    { warn: options.warn },
  )
}

async function protocolFor(
  env: Env,
  environ: Environ,
  userAgent: string,
  clientSecret: ClientSecret | undefined,
  { warn, command }: Pick<ContextOptions, 'warn' | 'command'>,
): Promise<AuthProtocol> {
  // Without --allow-http, plain http goes only to a connection whose address is loopback.
  const http = { environ, userAgent, allowHttp: env.allowHttp === true }
  if (env.protocol === 'api') {
    // Checked again here: an env made from variables, or a hand-edited config, never saw `env add`.
    const url = checkServerUrl(env.url ?? '', env.fromVariables ? 'TOKENCTL_URL' : 'The env URL', env.allowHttp)
    const { apiProtocol } = await import('../protocols/api.js')
    return apiProtocol({ ...env, url }, http)
  }
  // The variable wins, as it does for credentials from variables (credentials.ts): CI names its own client
  // beside a config made for people, and the secret it sets belongs to that client.
  const clientId = variable(environ, env.name, 'CLIENT_ID') ?? env.clientId
  if (!clientId) {
    throw new UsageError(
      `The oauth2 env "${env.name}" has no client id.`,
      `Add it: tokenctl env add ${env.name} --issuer URL --client-id ID --force (or set TOKENCTL_CLIENT_ID).`,
    )
  }
  const { oauth2Protocol } = await import('../protocols/oauth2.js')
  return oauth2Protocol(env, {
    http,
    clientId,
    clientSecret,
    // Every move of a kept endpoint is said and logged; a saved env keeps it (the protocol
    // calls this only once a request to the new endpoint has succeeded).
    onRediscovered: async (found, moves) => {
      for (const move of moves) {
        warn(
          `The ${move.field} of "${env.name}" moved from ${printable(move.from, 300)} to ${printable(move.to, 300)} (found by discovery at ${printable(env.issuer ?? '', 300)}).`,
        )
        appendAudit(
          environ,
          {
            env: env.name,
            event: 'endpoint',
            outcome: 'ok',
            command,
            protocol: env.protocol,
            endpoint: move.field,
            from: move.from,
            to: move.to,
          },
          { warn },
        )
      }
      if (env.fromVariables) return
      await new Config(environ).update((data) => {
        const kept = data.envs[env.name]
        if (!kept) return
        const { tokenUrl, deviceUrl, authorizeUrl, revokeUrl, defaultScope } = found
        data.envs[env.name] = {
          ...kept,
          tokenUrl,
          deviceUrl: deviceUrl ?? kept.deviceUrl,
          authorizeUrl: authorizeUrl ?? kept.authorizeUrl,
          revokeUrl: revokeUrl ?? kept.revokeUrl,
          defaultScope,
          clientAuth: kept.clientAuth ?? found.clientAuth,
          discoveredAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }
      })
    },
  })
}

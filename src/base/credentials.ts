import type { Env } from './env-settings.js'
import type { Environ } from './paths.js'
import { currentPlatform, type Platform } from './platform.js'
import { rememberSecrets } from './secrets.js'
import { variable } from './variables.js'

/** docs/design.md#credentials-from-variables: credentials from variables, counted only when complete. Never written anywhere. */
/** A user name and password, typed or read from variables. */
export interface PasswordCredentials {
  username: string
  password: string
}

export interface VariableCredentials {
  password?: PasswordCredentials
  refreshToken?: string
  client?: { clientId: string; clientSecret: string }
}

export function credentialsFromVariables(environ: Environ, env: Env): VariableCredentials | undefined {
  const found: VariableCredentials = {}
  const username = variable(environ, env.name, 'USERNAME') ?? env.username
  const password = variable(environ, env.name, 'PASSWORD')
  if (username && password) found.password = { username, password }
  const refreshToken = variable(environ, env.name, 'REFRESH_TOKEN')
  if (refreshToken) found.refreshToken = refreshToken
  if (env.protocol === 'oauth2') {
    const clientId = variable(environ, env.name, 'CLIENT_ID') ?? env.clientId
    const clientSecret = clientSecretFromVariables(environ, env)
    if (clientId && clientSecret) found.client = { clientId, clientSecret }
  }
  rememberSecrets(password, refreshToken, variable(environ, env.name, 'CLIENT_SECRET'))
  return found.password || found.refreshToken || found.client ? found : undefined
}

/** TOKENCTL_CLIENT_SECRET: a confidential client's secret for every oauth2 flow, complete credentials or not. */
export function clientSecretFromVariables(environ: Environ, env: Env): string | undefined {
  return env.protocol === 'oauth2' ? variable(environ, env.name, 'CLIENT_SECRET') : undefined
}

/** The credential variables that hold a secret, for any env: `TOKENCTL_PASSWORD`, `TOKENCTL_PROD_EU_CLIENT_SECRET`, … */
const SECRET_VARIABLE = /^TOKENCTL_(?:[A-Z0-9_]+_)?(?:PASSWORD|CLIENT_SECRET|REFRESH_TOKEN)$/

/** Whether a variable of that name holds a password, refresh token or client secret (global or per-env form). */
export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLE.test(name)
}

/**
 * `environ` without the variables that buy tokens, for a process tokenctl starts: it is
 * handed a token or nothing, never the power to mint more. Windows' variable names know no
 * case there: TOKENCTL_PASSWORD and Tokenctl_Password are one.
 */
export function withoutSecretVariables(
  environ: NodeJS.ProcessEnv,
  platform: Pick<Platform, 'os'> = currentPlatform(environ),
): NodeJS.ProcessEnv {
  const caseless = platform.os === 'win32'
  const kept: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(environ)) {
    if (!isSecretVariable(caseless ? name.toUpperCase() : name)) kept[name] = value
  }
  return kept
}

/**
 * Remember every secret the credential variables hold, whichever env they are for: the process
 * holds them all, even those of envs it does not use, so none of them may be printed.
 */
export function rememberVariableSecrets(environ: Environ): void {
  for (const [name, value] of Object.entries(environ)) {
    if (value && isSecretVariable(name)) rememberSecrets(value)
  }
}

/** Every secret value the variables hold, for redaction. */
export function secretsOf(credentials: VariableCredentials | undefined): string[] {
  if (!credentials) return []
  return [credentials.password?.password, credentials.refreshToken, credentials.client?.clientSecret].filter(
    (value): value is string => Boolean(value),
  )
}

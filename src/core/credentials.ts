import type { PasswordCredentials } from '../protocols/types.js'
import type { Env } from './env-settings.js'
import type { Environ } from './paths.js'
import { variable } from './variables.js'

/** SPEC §6: credentials from variables, counted only when complete. Never written anywhere. */
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
  return found.password || found.refreshToken || found.client ? found : undefined
}

/** TOKENCTL_CLIENT_SECRET: a confidential client's secret for every oauth2 flow, complete credentials or not. */
export function clientSecretFromVariables(environ: Environ, env: Env): string | undefined {
  return env.protocol === 'oauth2' ? variable(environ, env.name, 'CLIENT_SECRET') : undefined
}

/** Every secret value the variables hold, for redaction. */
export function secretsOf(credentials: VariableCredentials | undefined): string[] {
  if (!credentials) return []
  return [credentials.password?.password, credentials.refreshToken, credentials.client?.clientSecret].filter((value): value is string => Boolean(value))
}

/**
 * What the oauth2 end-to-end suites (test/e2e/oauth2-*.test.ts) share: the sandbox's
 * files read and edited the way a test needs, and a device login driven to its end.
 */
import fs from 'node:fs'
import path from 'node:path'

import type { RunResult, Sandbox } from './cli.js'
import type { OidcServer } from './oidc-server.js'

export interface StoredRecord {
  refreshToken?: string
  refreshExpiresAt?: number
  accessToken?: string
  accessExpiresAt?: number
  user?: string
  clientSecret?: string
  flow?: string
  obtainedAt?: number
}

/** Every run of these suites uses the plain-file store, so a test can read what was stored. */
export const FILE_STORE = { TOKENCTL_STORE: 'file' }

export const credentialsFile = (sandbox: Sandbox): string => path.join(sandbox.configDir, 'credentials.json')

export function stored(sandbox: Sandbox, env: string): StoredRecord | undefined {
  if (!fs.existsSync(credentialsFile(sandbox))) return undefined
  const data = JSON.parse(fs.readFileSync(credentialsFile(sandbox), 'utf8')) as { envs: Record<string, StoredRecord> }
  // The env made from variables is kept under its name and a hash of what it was issued for (`default~1a2b3c4d`).
  return data.envs[env] ?? Object.entries(data.envs).find(([key]) => new RegExp(`^${env}~[0-9a-f]{8}$`).test(key))?.[1]
}

/** The record with both tokens, or a test failure saying there is none. */
export function storedTokens(
  sandbox: Sandbox,
  env: string,
): StoredRecord & { refreshToken: string; accessToken: string } {
  const record = stored(sandbox, env)
  if (!record?.refreshToken || !record.accessToken)
    throw new Error(`no refresh and access token stored for ${env}: ${JSON.stringify(record)}`)
  return record as StoredRecord & { refreshToken: string; accessToken: string }
}

/** Makes the stored access token look expired, as if its time had run out; the refresh token stays. */
export function expireStoredAccessToken(sandbox: Sandbox, env: string): void {
  const data = JSON.parse(fs.readFileSync(credentialsFile(sandbox), 'utf8')) as { envs: Record<string, StoredRecord> }
  data.envs[env]!.accessExpiresAt = Date.now() - 60_000
  fs.writeFileSync(credentialsFile(sandbox), JSON.stringify(data), { mode: 0o600 })
}

export interface ConfigFile {
  current?: string
  envs: Record<string, Record<string, unknown>>
}

export function readConfig(sandbox: Sandbox): ConfigFile | undefined {
  return fs.existsSync(sandbox.configFile)
    ? (JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8')) as ConfigFile)
    : undefined
}

export function writeConfig(sandbox: Sandbox, config: ConfigFile): void {
  fs.writeFileSync(sandbox.configFile, JSON.stringify(config, null, 2))
}

/** The user code as `login` prints it: "…shows the code ABCD-EFGH." or "…enter the code ABCD-EFGH." */
export const USER_CODE = /the code ([A-Z0-9]{4}-[A-Z0-9]{4})\b/

/**
 * `login` with the device flow, run to its end: the code read from stderr while it waits,
 * then approved at the provider as `accountId` (default the server's).
 */
export async function deviceLogin(
  sandbox: Sandbox,
  server: OidcServer,
  args: string[],
  options: { env?: Record<string, string | undefined>; accountId?: string } = {},
): Promise<RunResult> {
  const login = sandbox.start(['login', '--flow', 'device', ...args], { env: { ...FILE_STORE, ...options.env } })
  const [, userCode] = await login.waitForStderr(USER_CODE)
  await server.approveDevice(userCode!, options.accountId)
  return login.done
}

/** The claims of a JWT, for checks on what the provider issued. */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

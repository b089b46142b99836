import type { ConfigData } from './config.js'
import { envSettingsOf } from './config-file.js'
import { assertEnvName, printable } from '../base/env-name.js'
import type { Env, Protocol } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import type { Environ } from '../base/paths.js'
import { variable } from '../base/variables.js'

export const DEFAULT_ENV_NAME = 'default'

/**
 * Which env a command works on (docs/design.md#commands): `--env`, then TOKENCTL_ENV, then the current
 * env of the config, then an env made from variables alone (docs/design.md#credentials-from-variables).
 */
export function selectEnv(flag: string | undefined, config: ConfigData, environ: Environ): Env {
  const named = flag || environ.TOKENCTL_ENV || undefined
  if (named) {
    assertEnvName(named)
    const settings = envSettingsOf(config, named)
    if (settings) return { name: named, ...settings }
    const fromVariables = envFromVariables(environ)
    if (fromVariables && fromVariables.name === named) return fromVariables
    throw unknownEnv(named, config)
  }
  if (config.current) {
    const settings = envSettingsOf(config, config.current)
    if (settings) return { name: config.current, ...settings }
  }
  const fromVariables = envFromVariables(environ)
  if (fromVariables) return fromVariables
  throw new UsageError(
    Object.keys(config.envs).length === 0 ? 'No env is set up yet.' : 'No env is selected.',
    Object.keys(config.envs).length === 0
      ? 'Add one: tokenctl env add NAME --url URL --use (or set TOKENCTL_URL).'
      : `Pick one with "tokenctl env use NAME" or pass -e NAME (known: ${knownNames(config)}).`,
  )
}

/** The env described by TOKENCTL_URL / TOKENCTL_ISSUER and friends, if any. */
export function envFromVariables(environ: Environ): Env | undefined {
  const name = environ.TOKENCTL_ENV || DEFAULT_ENV_NAME
  const url = variable(environ, name, 'URL')
  const issuer = variable(environ, name, 'ISSUER')
  if (!url && !issuer) return undefined
  assertEnvName(name)
  const protocolValue = variable(environ, name, 'PROTOCOL') ?? (issuer && !url ? 'oauth2' : 'api')
  if (protocolValue !== 'api' && protocolValue !== 'oauth2') {
    throw new UsageError(
      `TOKENCTL_PROTOCOL must be "api" or "oauth2", not "${printable(protocolValue, 20)}".`,
      'Set TOKENCTL_PROTOCOL=api or TOKENCTL_PROTOCOL=oauth2.',
    )
  }
  const protocol: Protocol = protocolValue
  return {
    name,
    protocol,
    url: protocol === 'api' ? url : undefined,
    issuer: protocol === 'oauth2' ? (issuer ?? url) : undefined,
    clientId: variable(environ, name, 'CLIENT_ID'),
    scope: variable(environ, name, 'SCOPE'),
    fromVariables: true,
  }
}

export function unknownEnv(name: string, config: ConfigData): UsageError {
  const known = knownNames(config)
  return new UsageError(
    `Unknown env "${name}".${known ? ` Known envs: ${known}.` : ' No env is set up yet.'}`,
    `Add it with "tokenctl env add ${name} --url URL", or pick a known one.`,
  )
}

function knownNames(config: ConfigData): string {
  return Object.keys(config.envs).sort().join(', ')
}

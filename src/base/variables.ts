import { envVariablePart } from './env-name.js'
import type { Environ } from './paths.js'

/**
 * docs/design.md#credentials-from-variables: `TOKENCTL_<ENV>_<NAME>` wins over `TOKENCTL_<NAME>`.
 * Empty values count as unset, the way shells and CI systems pass "nothing".
 */
export function variable(environ: Environ, envName: string | undefined, name: string): string | undefined {
  if (envName) {
    const specific = environ[`TOKENCTL_${envVariablePart(envName)}_${name}`]
    if (specific) return specific
  }
  return environ[`TOKENCTL_${name}`] || undefined
}

/** `CI=true` acts like `--no-input` (docs/design.md#commands). */
export function isCi(environ: Environ): boolean {
  const ci = environ.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

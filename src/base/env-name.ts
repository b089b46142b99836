import { sanitizeText } from '../util/sanitize.js'
import { UsageError } from './errors.js'

const ENV_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

export function isValidEnvName(name: string): boolean {
  return ENV_NAME.test(name)
}

export function assertEnvName(name: string): string {
  if (!isValidEnvName(name)) {
    throw new UsageError(
      `"${printable(name)}" is not a valid env name.`,
      'Use 1 to 64 characters: lower-case letters, digits, ".", "_" or "-", starting with a letter or digit.',
    )
  }
  return name
}

/** The `<ENV>` part of `TOKENCTL_<ENV>_<NAME>` (docs/design.md#credentials-from-variables): `prod-eu` → `PROD_EU`. */
export function envVariablePart(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_')
}

/**
 * Text from outside (user input echoed back, a server's message, a name read from a file)
 * as it may be printed: through the one sanitizer (control, bidi and zero-width characters
 * removed), then cut short.
 */
export function printable(value: string, max = 64): string {
  const clean = sanitizeText(value)
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}

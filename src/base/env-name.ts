import { sanitizeText } from '../util/sanitize.js'
import { UsageError } from './errors.js'

const ENV_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/**
 * Windows opens a device, not a file, for these names in any case and with any extension
 * (`nul.txt` too), and an env's name becomes file and key names. Refused on every OS, so
 * that a config written on Linux works on Windows.
 */
const DEVICE_NAME = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i

export function isValidEnvName(name: string): boolean {
  return ENV_NAME.test(name) && !isDeviceName(name)
}

export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name)
}

/** The rule, as a fix says it. */
export const ENV_NAME_RULE =
  'an env name is 1 to 64 characters, lower-case letters, digits, ".", "_" or "-", starting with a letter or digit, and not a Windows device name (con, prn, aux, nul, com1-com9, lpt1-lpt9, with or without an extension)'

export function assertEnvName(name: string): string {
  if (isDeviceName(name)) {
    throw new UsageError(
      `"${printable(name)}" is not a valid env name: Windows reserves it for a device (con, prn, aux, nul, com1-com9, lpt1-lpt9, with any extension).`,
      'Pick another name, e.g. with a prefix or suffix ("my-con", "nul-env").',
    )
  }
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

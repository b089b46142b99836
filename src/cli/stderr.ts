import { redactAll } from '../core/secrets.js'

/**
 * The one way anything reaches stderr: messages, warnings, errors and their fixes, stack
 * traces. Every byte passes the redaction that knows every secret the process holds
 * (SPEC §9). Free of oclif, so the fast path can write through it too.
 */
export function toStderr(text: string): void {
  process.stderr.write(redactAll(text))
}

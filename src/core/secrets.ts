import { MIN_SECRET_LENGTH, redact } from '../util/redact.js'

/**
 * Every secret this process holds (SPEC §9), so that one function can take them out of
 * everything it prints: passwords and client secrets (variables, stdin, prompts), refresh
 * and access tokens (variables, the store, the caches, the server's answers).
 *
 * The set lives on a global rather than in this module: the fast path of bin/run.js is a
 * bundle with its own copy of this file, and what it read must still be known to the full
 * CLI it hands over to.
 */
const KEY = Symbol.for('tokenctl.secrets')
type Holder = { [KEY]?: Set<string> }

function known(): Set<string> {
  const holder = globalThis as Holder
  return (holder[KEY] ??= new Set())
}

/** Remember a secret, and the forms it takes inside a JSON string and a URL or form body. */
export function rememberSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return
  const secrets = known()
  if (secrets.has(value)) return
  secrets.add(value)
  for (const form of [JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)]) {
    if (form !== value) secrets.add(form)
  }
}

export function rememberSecrets(...values: unknown[]): void {
  for (const value of values) rememberSecret(value)
}

/** `text` with every secret this process has seen replaced by `***`. */
export function redactAll(text: string): string {
  const secrets = known()
  return secrets.size === 0 ? text : redact(text, secrets)
}

/** For tests: forget everything (the set is process-wide). */
export function forgetSecrets(): void {
  known().clear()
}

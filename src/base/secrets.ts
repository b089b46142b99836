import { MIN_SECRET_LENGTH, redact } from '../util/redact.js'

/**
 * Every secret this process holds (docs/design.md#secrets-never-leak), so that one function can take them out of
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

/**
 * Remember a secret, and the forms it takes when a server or a log echoes it back: inside
 * a JSON string, percent-encoded (URL, form body; either case of hex digits), and in
 * base64 and base64url, padded or not. Base64 is also remembered as it reads inside a
 * longer encoded text (a whole request body echoed in base64): there the secret starts 1
 * or 2 bytes into a 3-byte group, which changes every character of its encoding, so each
 * alignment is kept without the characters it shares with its neighbours.
 *
 * This runs on the token fast path for each secret it reads: Buffer only, no node:crypto.
 */
export function rememberSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return
  const secrets = known()
  if (secrets.has(value)) return
  secrets.add(value)
  const percent = encodeURIComponent(value)
  const formEncoded = new URLSearchParams({ v: value }).toString().slice(2)
  const forms = [
    JSON.stringify(value).slice(1, -1),
    percent,
    lowerHex(percent),
    formEncoded,
    lowerHex(formEncoded),
    ...base64Forms(value),
  ]
  for (const form of forms) {
    if (form !== value && form.length >= MIN_SECRET_LENGTH) secrets.add(form)
  }
}

function lowerHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())
}

function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8')
  const forms: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const aligned = shift === 0 ? bytes : Buffer.concat([Buffer.alloc(shift), bytes])
    const standard = aligned.toString('base64')
    const unpadded = standard.replace(/=+$/, '')
    // The characters that hold bits of the bytes before or after the secret: 2 or 3 at
    // the start when it is shifted, 1 at the end when its last group is not full.
    const core = unpadded.slice(shift === 0 ? 0 : shift + 1, aligned.length % 3 === 0 ? undefined : -1)
    if (shift === 0) forms.push(standard, unpadded)
    forms.push(core)
  }
  return [...forms, ...forms.map((form) => form.replace(/\+/g, '-').replace(/\//g, '_'))]
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

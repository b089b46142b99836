import { redactAll } from './secrets.js'

/**
 * TOKENCTL_DEBUG=1: what tokenctl does, on stderr, one line per step (requests, lock waits,
 * store reads and writes), every line redacted. Off, a call costs one boolean test: the
 * message is a function that is never called.
 */
let enabled = process.env.TOKENCTL_DEBUG === '1'

export function setDebug(on: boolean): void {
  enabled = on
}

export function isDebug(): boolean {
  return enabled
}

export function debug(topic: string, message: () => string): void {
  if (!enabled) return
  process.stderr.write(redactAll(`tokenctl debug: ${topic}: ${message()}\n`))
}

/** A URL as a debug line shows it: no user info, and no query values (a code or token may ride there). */
export function safeUrl(url: URL): string {
  const keys = [...url.searchParams.keys()]
  const query = keys.length ? `?${keys.map((key) => `${encodeURIComponent(key)}=…`).join('&')}` : ''
  return `${url.protocol}//${url.host}${url.pathname}${query}`
}

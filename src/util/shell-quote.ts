/**
 * POSIX single quotes: nothing inside is special, and a quote is closed, escaped and
 * reopened. For every text tokenctl writes for a shell: an `export` line, git's helper
 * line, a path in a fix a person pastes.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * A word of a command a person pastes: as it is when a shell sees nothing special in it,
 * else single-quoted (a context named `ctx: #1`, an IPv6 host's brackets).
 */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._@%+=:,/-]+$/.test(value) ? value : shellQuote(value)
}

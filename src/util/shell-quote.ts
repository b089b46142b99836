/**
 * POSIX single quotes: nothing inside is special, and a quote is closed, escaped and
 * reopened. For every text tokenctl writes for a shell: an `export` line, git's helper
 * line, a path in a fix a person pastes.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * Replace every known secret in `text` by `***`. Longest first, so a secret that contains
 * another is not half-revealed. Very short values are left: they would mangle ordinary words.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const known = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length >= 4).sort((a, b) => b.length - a.length)
  let result = text
  for (const secret of known) result = result.split(secret).join('***')
  return result
}

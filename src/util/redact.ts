/** Secrets shorter than this are not masked: they would mangle ordinary words in every message. */
export const MIN_SECRET_LENGTH = 4

export const MASK = '***'

/**
 * Replace every occurrence of every secret in `text` by `***`.
 *
 * Occurrences are found in the original text, overlapping ones included, and every run of
 * characters that belongs to any of them becomes one mask: replacing secrets one after the
 * other would let the first replacement cut an overlapping second secret in half and leave
 * its tail readable. The pass repeats until no secret is left, because the masks themselves
 * could complete a secret that contains "***"; each pass shortens the text (a run of four or
 * more characters becomes three), so it ends. Text that holds no secret comes back unchanged.
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  const known = [...new Set(secrets)].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
  )
  if (known.length === 0) return text
  let result = text
  for (;;) {
    const covered = coverage(result, known)
    if (!covered) return result
    result = mask(result, covered)
  }
}

/** Which characters of `text` belong to an occurrence of a secret; undefined when none does. */
function coverage(text: string, secrets: readonly string[]): Uint8Array | undefined {
  let covered: Uint8Array | undefined
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      covered ??= new Uint8Array(text.length)
      covered.fill(1, at, at + secret.length)
    }
  }
  return covered
}

function mask(text: string, covered: Uint8Array): string {
  let result = ''
  let start = 0
  for (let i = 0; i < text.length;) {
    if (!covered[i]) {
      i++
      continue
    }
    result += text.slice(start, i) + MASK
    while (i < text.length && covered[i]) i++
    start = i
  }
  return result + text.slice(start)
}

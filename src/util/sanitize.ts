/**
 * The one sanitizer for text that came from outside (a server's message, a token's claims,
 * a user name, a name read from a file) before it reaches a terminal. A terminal obeys
 * more than it shows: C0/C1 controls move the cursor, rewrite the title or clear the
 * screen; bidi embeddings, overrides and isolates (and the implicit marks) reorder what
 * follows, so "evil.example" can read as "elpmaxe.live" or a warning can seem to end
 * where it does not; zero-width characters hide text from a reader and from a search;
 * U+2028/U+2029 break a line for some readers and not for others. All of them are removed,
 * not replaced: what is left is what a person reads and what a script compares.
 */

// C0, DEL and C1 (U+0085 NEL included).
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f'
// LRM, RLM, ALM; LRE…RLO; LRI…PDI.
const BIDI = '\\u200e\\u200f\\u061c\\u202a-\\u202e\\u2066-\\u2069'
// ZWSP, ZWNJ, ZWJ, WORD JOINER, BOM / ZWNBSP.
const ZERO_WIDTH = '\\u200b-\\u200d\\u2060\\ufeff'
// LINE SEPARATOR, PARAGRAPH SEPARATOR.
const SEPARATORS = '\\u2028\\u2029'

const UNSAFE = new RegExp(`[${CONTROL}${BIDI}${ZERO_WIDTH}${SEPARATORS}]`, 'g')
const INVISIBLE = new RegExp(`[${BIDI}${ZERO_WIDTH}${SEPARATORS}]`, 'g')

/** `text` without control, bidi, zero-width and line/paragraph separator characters. */
export function sanitizeText(text: string): string {
  return text.replace(UNSAFE, '')
}

/**
 * `text` without the invisible ones only (bidi, zero-width, separators): for lines
 * tokenctl composes itself, whose colour escapes and newlines are its own.
 */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE, '')
}

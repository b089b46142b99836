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

// By Unicode general category, so that a character added to a category later, or one
// nobody thought of, is covered too: Cc (C0, DEL, C1 with NEL), Cf (format: the bidi
// marks, embeddings, overrides and isolates; zero-width space, joiners, word joiner, BOM;
// the invisible operators U+2061–2064; the deprecated U+206A–206F; soft hyphen; Mongolian
// vowel separator; interlinear annotation U+FFF9–FFFB; tag characters), Zl and Zp (U+2028,
// U+2029). The tag block U+E0000–E007F is named whole: some of it is unassigned, not Cf,
// and a terminal may still draw nothing for it.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u{E0000}-\u{E007F}]/gu
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\u{E0000}-\u{E007F}]/gu

/** `text` without control, format (bidi, zero-width and other invisible) and line/paragraph separator characters. */
export function sanitizeText(text: string): string {
  return text.replace(UNSAFE, '')
}

/**
 * `text` without the invisible ones only (format characters, separators): for lines
 * tokenctl composes itself, whose colour escapes and newlines are its own.
 */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE, '')
}

// What JSON.stringify leaves raw that a terminal obeys or hides: DEL and C1 controls,
// format characters, separators. (C0 controls inside strings it escapes itself; the only
// raw ones left are the newlines of the indentation, which stay.)
const RAW_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\u{E0000}-\u{E007F}]/gu

/**
 * JSON text safe for a terminal and equal for a parser: every character that
 * `sanitizeText` would remove is written as its `\uXXXX` escape instead (a script that
 * parses the output gets exactly the value; a person reading it sees the escape).
 */
export function escapeInvisibleInJson(json: string): string {
  return json.replace(RAW_IN_JSON, (found) =>
    // split(''): UTF-16 code units, so a tag character becomes its two surrogate escapes.
    found
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join(''),
  )
}

/**
 * The members of a JSON object as spans of its text, so that setup-docker edits docker's
 * config.json where credHelpers is and leaves every other byte as it was: a parse and a
 * stringify would turn 12345678901234567890 into 12345678901234567000, 1.0 into 1, and
 * spread a compact object over lines. Only for text JSON.parse has already accepted.
 */

export interface JsonMember {
  key: string
  keyStart: number
  keyEnd: number
  valueStart: number
  valueEnd: number
}

export interface JsonObjectSpan {
  /** Offsets of the `{` and of the `}`. */
  open: number
  close: number
  members: JsonMember[]
}

/** The layout new members follow: the file's indent, or none at all for a one-line file. */
export interface JsonLayout {
  newline: string
  indent: string
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r'

function skipSpace(text: string, at: number): number {
  let i = at
  while (isSpace(text[i])) i++
  return i
}

function skipString(text: string, at: number): number {
  let i = at + 1
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
  return i + 1
}

function skipValue(text: string, at: number): number {
  if (text[at] === '"') return skipString(text, at)
  if (text[at] !== '{' && text[at] !== '[') {
    let i = at
    while (i < text.length && !isSpace(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++
    return i
  }
  let depth = 0
  let i = at
  do {
    const c = text[i]
    if (c === '"') {
      i = skipString(text, i)
      continue
    }
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    i++
  } while (depth > 0)
  return i
}

/** The object whose `{` is at `open`. */
export function scanObject(text: string, open: number): JsonObjectSpan {
  const members: JsonMember[] = []
  let i = skipSpace(text, open + 1)
  while (text[i] !== '}') {
    const keyStart = i
    const keyEnd = skipString(text, i)
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1)
    const valueEnd = skipValue(text, valueStart)
    members.push({ key: JSON.parse(text.slice(keyStart, keyEnd)) as string, keyStart, keyEnd, valueStart, valueEnd })
    i = skipSpace(text, valueEnd)
    if (text[i] === ',') i = skipSpace(text, i + 1)
  }
  return { open, close: i, members }
}

/** The top-level object of a JSON text. */
export const scanTop = (text: string): JsonObjectSpan => scanObject(text, skipSpace(text, 0))

/** The member JSON.parse would take for `key`: the last of that name. */
export function memberOf(object: JsonObjectSpan, key: string): JsonMember | undefined {
  return object.members.findLast((member) => member.key === key)
}

const splice = (text: string, start: number, end: number, insert: string): string =>
  text.slice(0, start) + insert + text.slice(end)

/** `key` set to `value` (JSON text): the value replaced in place, or a member added last in the members' own style. */
export function setMember(
  text: string,
  object: JsonObjectSpan,
  key: string,
  value: string,
  layout: JsonLayout,
): string {
  const existing = memberOf(object, key)
  if (existing) return splice(text, existing.valueStart, existing.valueEnd, value)
  const name = JSON.stringify(key)
  const [first] = object.members
  const last = object.members.at(-1)
  if (first && last) {
    const lead = text.slice(object.open + 1, first.keyStart)
    const colon = text.slice(first.keyEnd, first.valueStart)
    return splice(text, last.valueEnd, last.valueEnd, `,${lead}${name}${colon}${value}`)
  }
  const outer = layout.newline ? indentOfLine(text, object.open) : ''
  const colon = layout.newline ? ': ' : ':'
  const inner = `${layout.newline}${outer}${layout.indent}${name}${colon}${value}${layout.newline}${outer}`
  return splice(text, object.open + 1, object.close, inner)
}

/** The member at `index` taken out with the separator before it (or after it, for the first). */
export function removeMember(text: string, object: JsonObjectSpan, index: number): string {
  const member = object.members[index]!
  const before = object.members[index - 1]
  if (before) return splice(text, before.valueEnd, member.valueEnd, '')
  const after = object.members[index + 1]
  if (after) return splice(text, member.keyStart, after.keyStart, '')
  return splice(text, object.open + 1, object.close, '')
}

/** The white space that starts the line of `offset`: an object that opens after a key is indented as the key's line. */
function indentOfLine(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(text.lastIndexOf('\n', offset) + 1, offset))![0]
}

import { printable } from '../../src/base/env-name.js'
import { escapeInvisibleInJson, sanitizeText, withoutInvisible } from '../../src/util/sanitize.js'

// Every code point the sanitizer must take out of text from outside before it is printed.
const CONTROL = ['\u0000', '\u0007', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b']
const INVISIBLE = [
  '\u200e',
  '\u200f',
  '\u061c',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u2028',
  '\u2029',
  // Invisible operators, deprecated format characters, interlinear annotation, Mongolian vowel separator, soft hyphen, tags.
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\u206a',
  '\u206b',
  '\u206c',
  '\u206d',
  '\u206e',
  '\u206f',
  '\ufff9',
  '\ufffa',
  '\ufffb',
  '\u180e',
  '\u00ad',
  '\u{e0000}',
  '\u{e0001}',
  '\u{e0002}',
  '\u{e0020}',
  '\u{e0041}',
  '\u{e007f}',
]

test('sanitizeText removes control, format (bidi, zero-width, other invisible) and separator characters, and nothing else', () => {
  for (const bad of [...CONTROL, ...INVISIBLE]) expect(sanitizeText(`a${bad}b`)).toBe('ab')
  const kept = 'plain ASCII, é, 中文, עברית, 🙂, ‐ – —, \u00a0nbsp'
  expect(sanitizeText(kept)).toBe(kept)
})

test('withoutInvisible keeps control characters (our own colours and newlines) and removes the rest', () => {
  for (const bad of INVISIBLE) expect(withoutInvisible(`a${bad}b`)).toBe('ab')
  expect(withoutInvisible('\u001b[31mError:\u001b[39m x\ny')).toBe('\u001b[31mError:\u001b[39m x\ny')
})

test('printable goes through the same sanitizer, then cuts', () => {
  expect(printable('evil\u202egnp.exe\u001b[2J\u200b', 64)).toBe('evilgnp.exe[2J')
  expect(printable('x'.repeat(70), 64)).toBe(`${'x'.repeat(64)}…`)
})

test('escapeInvisibleInJson: the same value for a parser, nothing raw a terminal hides or obeys', () => {
  const value = { text: `a${[...CONTROL, ...INVISIBLE].join('')}b é 中文 🙂` }
  const json = escapeInvisibleInJson(JSON.stringify(value, null, 2))
  expect(JSON.parse(json)).toEqual(value)
  expect(sanitizeText(json.replace(/\n/g, ''))).toBe(json.replace(/\n/g, ''))
  expect(json).toContain('\\u202e')
  expect(json).toContain('\\udb40\\udc41')
})

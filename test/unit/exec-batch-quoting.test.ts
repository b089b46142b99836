/**
 * The command line that runs a `.cmd`/`.bat` on Windows (docs/design.md#windows): exact
 * lines for the characters cmd.exe treats as its own, and a model of how cmd.exe and then
 * the C runtime read the line, to show that no hostile argument escapes its quotes and
 * that each arrives as it was given.
 */
import { CMD_SWITCHES, UnsafeBatchArgument, batchCommandLine } from '../../src/util/batch-command-line.js'

const SCRIPT = 'C:\\tools\\tool.cmd'
const line = (...args: string[]) => batchCommandLine(SCRIPT, args)
/** The line for one argument: the script part is the same in every case. */
const withArg = (quoted: string) => `""C:\\tools\\tool.cmd" ${quoted}"`

describe('the cmd.exe line for a batch file', () => {
  test('runs with AutoRun off, extensions on, delayed expansion off, and the line as it is', () => {
    expect(CMD_SWITCHES).toEqual(['/d', '/e:ON', '/v:OFF', '/s', '/c'])
  })

  test.each([
    ['plain words', ['install', '--save-dev'], '""C:\\tools\\tool.cmd" "install" "--save-dev""'],
    ['no arguments', [], '""C:\\tools\\tool.cmd""'],
    ['an empty argument', [''], withArg('""')],
    ['spaces', ['a b  c'], withArg('"a b  c"')],
    ['embedded quotes, doubled', ['say "hi"'], withArg('"say ""hi"""')],
    ['backslashes before a quote, doubled', ['a\\"b'], withArg('"a\\\\""b"')],
    ['trailing backslashes, doubled', ['C:\\dir\\'], withArg('"C:\\dir\\\\"')],
    ['backslashes elsewhere, as they are', ['C:\\a\\\\b'], withArg('"C:\\a\\\\b"')],
    ['%PATH%, never expanded', ['%PATH%'], withArg('"%%cd:~,%PATH%%cd:~,%"')],
    ['a lone %', ['100%'], withArg('"100%%cd:~,%"')],
    ['&', ['a&calc'], withArg('"a&calc"')],
    ['|', ['a|calc'], withArg('"a|calc"')],
    ['<', ['a<in'], withArg('"a<in"')],
    ['>', ['a>out'], withArg('"a>out"')],
    ['^', ['a^b'], withArg('"a^b"')],
    ['( and )', ['(a)'], withArg('"(a)"')],
    ['!', ['!PATH!'], withArg('"!PATH!"')],
    ['a quote that would end the quoting', ['" & calc & "'], withArg('""" & calc & """')],
    ['a backslash and quote that would end it', ['\\" & calc'], withArg('"\\\\"" & calc"')],
  ])('%s', (_name, args, expected) => {
    expect(line(...args)).toBe(expected)
  })

  test('a % in the script path is not expanded either', () => {
    expect(batchCommandLine('C:\\100%\\tool.cmd', [])).toBe('""C:\\100%%cd:~,%\\tool.cmd""')
  })

  test.each([
    ['a line feed', 'a\nb'],
    ['a carriage return', 'a\rcalc'],
    ['a NUL', 'a\0b'],
  ])('an argument with %s is refused, by its position and without its value', (_name, hostile) => {
    let thrown: unknown
    try {
      line('fine', hostile)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UnsafeBatchArgument)
    expect((thrown as UnsafeBatchArgument).position).toBe(2)
    expect((thrown as Error).message).toBe('Argument 2 holds a line break or NUL, which a batch file cannot be given.')
  })

  test.each(['C:\\a"b\\tool.cmd', 'C:\\tools\\', 'C:\\a\nb.cmd'])('the script path %j is refused', (script) => {
    expect(() => batchCommandLine(script, [])).toThrow(UnsafeBatchArgument)
  })
})

/**
 * What cmd.exe does with `cmd /s /c "<line>"`, modelled for the characters that matter:
 * `/s` strips the outer quotes; then `%…%` is expanded (on a command line, a `%` with no
 * name after it stays as it is); then, with a quote flag that every `"` flips, `& | < > ^
 * ( )` outside quotes are cmd's operators. Every expansion other than the empty
 * `%cd:~,%`, and every operator outside quotes, is reported. Gives back the text the
 * script sees as `%*` after its own name.
 */
function cmdRead(text: string): { exposed: string[]; expanded: string } {
  expect(text.startsWith('"') && text.endsWith('"')).toBe(true)
  const inner = text.slice(1, -1)
  const exposed: string[] = []
  let expanded = ''
  for (let i = 0; i < inner.length;) {
    if (inner[i] !== '%') {
      expanded += inner[i++]
      continue
    }
    const end = inner.indexOf('%', i + 1)
    if (end === -1) {
      expanded += inner.slice(i)
      break
    }
    const name = inner.slice(i + 1, end)
    if (name === '') {
      expanded += '%'
      i += 1
    } else {
      if (name !== 'cd:~,') exposed.push(`%${name}%`)
      i = end + 1
    }
  }
  let quoted = false
  for (const char of expanded) {
    if (char === '"') quoted = !quoted
    else if (!quoted && '&|<>^()'.includes(char)) exposed.push(char)
  }
  if (quoted) exposed.push('an unclosed quote')
  return { exposed, expanded }
}

/** The C runtime's reading of a command line into words (what node, npm and most programs get). */
function crtWords(text: string): string[] {
  const words: string[] = []
  let i = 0
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++
    if (i >= text.length) return words
    let word = ''
    let quoted = false
    while (i < text.length && (quoted || (text[i] !== ' ' && text[i] !== '\t'))) {
      if (text[i] === '\\') {
        let count = 0
        while (text[i] === '\\') {
          count++
          i++
        }
        if (text[i] === '"') {
          word += '\\'.repeat(Math.floor(count / 2))
          if (count % 2 === 1) {
            word += '"'
            i++
          }
        } else word += '\\'.repeat(count)
      } else if (text[i] === '"') {
        if (quoted && text[i + 1] === '"') {
          word += '"'
          i += 2
        } else {
          quoted = !quoted
          i++
        }
      } else word += text[i++]
    }
    words.push(word)
  }
}

const HOSTILE = [
  'a & calc',
  'a&calc',
  '"&calc',
  '" & calc & "',
  '\\"&calc',
  '\\\\"&calc',
  'x\\" | calc',
  '" | calc > out.txt < in.txt',
  '^"&calc^"',
  '(calc)',
  ')&calc&(',
  '%PATH%',
  '%CD%&calc',
  '%%PATH%%',
  '%"&calc&"%',
  '%~dp0',
  '%*',
  '!PATH!',
  '"',
  '""',
  '"""',
  '\\',
  '\\\\',
  'C:\\dir\\',
  'trailing\\"',
  'tab\there',
  '',
  'ünïcödé & “quotes”',
]

describe('a model of cmd.exe reading the line', () => {
  test.each(HOSTILE.map((argument) => [argument]))('%j stays inside quotes and arrives as given', (argument) => {
    const args = ['first', argument, 'last']
    const { exposed, expanded } = cmdRead(line(...args))
    expect(exposed).toEqual([])
    expect(crtWords(expanded)).toEqual([SCRIPT, ...args])
  })

  test('all of them at once', () => {
    const { exposed, expanded } = cmdRead(line(...HOSTILE))
    expect(exposed).toEqual([])
    expect(crtWords(expanded)).toEqual([SCRIPT, ...HOSTILE])
  })

  test('the model does see what a naive quoting lets through', () => {
    // Quoting as for a program (`\"` for a quote) and no care for `%`: what Node did before its fix.
    const naive = (argument: string) => `"${argument.replaceAll('"', '\\"')}"`
    expect(cmdRead(`"${naive(SCRIPT)} ${naive('\\" & calc')}"`).exposed).toContain('&')
    expect(cmdRead(`"${naive(SCRIPT)} ${naive('%PATH%')}"`).exposed).toContain('%PATH%')
  })
})

/**
 * Every command's --help ends its description with the exit codes it can end with, each in
 * the words of the one table (EXIT_CODE_MEANINGS, docs/design.md#output-and-exit-codes), a
 * command's own detail only after them. The help is rendered the way `tokenctl CMD --help`
 * renders it: by oclif's Help, from oclif.manifest.json (test/e2e/manifest.test.ts holds
 * that to the compiled commands), 80 columns wide.
 */
import { type Command, Config, Help } from '@oclif/core'

import { CHILD_EXIT_CODE_MEANING, EXIT_CODE_MEANINGS, ExitCode, type ExitCodeValue } from '../../src/base/errors.js'
import { CHILD_EXIT_CODE_LINE, EXIT_CODES_HEADING, exitCodesHelp } from '../../src/cli/exit-codes-help.js'
import { ROOT } from '../support/cli.js'

let config: Config
/** Our commands (not the help and autocomplete plugins'), by id as the manifest spells it (oclif's Help rewrites the ids it sees). */
const commands = new Map<string, Command.Loadable>()

beforeAll(async () => {
  config = await Config.load(ROOT)
  for (const command of config.commands) if (command.pluginName === 'tokenctl') commands.set(command.id, command)
})

const ours = () => [...commands.keys()].sort()

/** oclif's Help, with the text of one command's help in hand rather than on stdout. */
class TextHelp extends Help {
  text(command: Command.Loadable): string {
    return this.formatCommand(command)
  }
}

/** The lines of the exit codes section of `id`'s --help, without the help's indentation. */
function exitCodesOf(id: string): string[] {
  const command = commands.get(id)
  if (!command) throw new Error(`no command ${id}`)
  const help = new TextHelp(config, { stripAnsi: true, maxWidth: 80 }).text(command)
  const lines = help.split('\n')
  const start = lines.findIndex((line) => line.trim() === EXIT_CODES_HEADING)
  if (start < 0) return []
  const end = lines.findIndex((line, i) => i > start && line.trim() === '')
  return lines.slice(start + 1, end < 0 ? undefined : end).map((line) => line.replace(/^ {2}/, ''))
}

test('the commands are all there', () => {
  expect(ours()).toEqual(expect.arrayContaining(['token', 'status', 'exec', 'git-credential', 'login', 'env:add']))
})

test("every command's --help lists its exit codes, each in the table's words", () => {
  for (const id of ours()) {
    const lines = exitCodesOf(id)
    expect({ id, listed: lines.length > 0 }).toEqual({ id, listed: true })
    const codes: number[] = []
    for (const line of lines) {
      if (line === CHILD_EXIT_CODE_LINE) continue
      const match = /^(\d+) +(.*)$/.exec(line)
      expect({ id, line, match: Boolean(match) }).toEqual({ id, line, match: true })
      const code = Number(match![1]) as ExitCodeValue
      const meaning = EXIT_CODE_MEANINGS[code]
      expect({ id, line, known: meaning !== undefined }).toEqual({ id, line, known: true })
      // The table's words, then (maybe) the command's own detail after a colon.
      expect({
        id,
        said: match![2]!.slice(0, meaning.length),
        rest: match![2]!.slice(meaning.length, meaning.length + 2),
      }).toEqual({ id, said: meaning, rest: match![2]!.length === meaning.length ? '' : ': ' })
      codes.push(code)
    }
    // In order, each once; the whole section as the table builds it (no line wrapped at 80 columns).
    expect({ id, codes }).toEqual({ id, codes: [...new Set(codes)].sort((a, b) => a - b) })
    const built = exitCodesHelp(
      lines
        .filter((line) => line !== CHILD_EXIT_CODE_LINE)
        .map((line) => {
          const [, code, rest] = /^(\d+) +(.*)$/.exec(line)!
          const detail = rest!.slice(EXIT_CODE_MEANINGS[Number(code) as ExitCodeValue].length + 2)
          return detail ? [Number(code) as ExitCodeValue, detail] : (Number(code) as ExitCodeValue)
        }),
      { child: lines.includes(CHILD_EXIT_CODE_LINE) },
    )
    expect({ id, section: [EXIT_CODES_HEADING, ...lines].join('\n') }).toEqual({ id, section: built })
  }
})

test('the codes a command is known for', () => {
  const codes = (id: string) =>
    exitCodesOf(id)
      .map((line) => /^(\d+) /.exec(line)?.[1])
      .filter(Boolean)
      .map(Number)
  expect(codes('status')).toContain(ExitCode.loginRequired)
  expect(codes('login')).toContain(ExitCode.interrupted)
  // git-credential ends a needed login with 0, so 3 is not among its codes.
  expect(codes('git-credential')).not.toContain(ExitCode.loginRequired)
  expect(exitCodesOf('exec').at(-1)).toBe(CHILD_EXIT_CODE_LINE)
  expect(CHILD_EXIT_CODE_LINE).toContain(CHILD_EXIT_CODE_MEANING)
})

test('no command spells exit codes by hand: one section, in the description only', () => {
  for (const id of ours()) {
    const description = commands.get(id)!.description ?? ''
    expect({ id, sections: description.split(EXIT_CODES_HEADING).length - 1 }).toEqual({ id, sections: 1 })
    expect({ id, last: description.trimEnd().endsWith(exitCodesOf(id).at(-1)!) }).toEqual({ id, last: true })
  }
})

test('the section follows the table: a change of wording there is a change in every help', () => {
  const table = EXIT_CODE_MEANINGS as Record<number, string>
  const before = table[ExitCode.loginRequired]!
  try {
    table[ExitCode.loginRequired] = 'a login is wanted'
    expect(exitCodesHelp([ExitCode.loginRequired, [ExitCode.server, 'detail']])).toBe(
      `${EXIT_CODES_HEADING}\n3    a login is wanted\n5    server or network failure: detail`,
    )
  } finally {
    table[ExitCode.loginRequired] = before
  }
})

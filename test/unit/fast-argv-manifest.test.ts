/**
 * The fast path of bin/run.js reads argv with its own flag tables (src/fast/argv.ts), without
 * oclif; oclif reads the same command lines from oclif.manifest.json (which
 * test/e2e/manifest.test.ts holds to the compiled commands). For each command the fast path
 * parses, both must agree flag by flag, and every flag of the command must be either served
 * or declined on purpose: a flag added to a command and not to the tables fails here.
 */
import fs from 'node:fs'
import path from 'node:path'

import { FAST_COMMANDS, type FastCommand, FLAG_SPECS, parseFlags } from '../../src/fast/argv.js'
import { ROOT } from '../support/cli.js'

interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: string[]
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { flags: Record<string, ManifestFlag> }>
}

const commands = Object.keys(FAST_COMMANDS) as FastCommand[]

describe.each(commands)('%s', (command) => {
  const table = FAST_COMMANDS[command]
  const served: readonly string[] = table.flags
  const declined: readonly string[] = table.declined
  const flagsOf = () => {
    const entry = manifest.commands[command]
    if (!entry) throw new Error(`oclif.manifest.json has no command "${command}"`)
    return entry.flags
  }

  test('every flag of the command is served or declined on purpose, and the fast path takes no flag the command lacks', () => {
    expect([...served, ...declined].sort()).toEqual(Object.keys(flagsOf()).sort())
    expect(served.filter((name) => declined.includes(name))).toEqual([])
  })

  test.each(served.map((name) => [name]))('--%s: the same char, kind and options as the manifest', (name) => {
    const flag = flagsOf()[name]
    const spec = FLAG_SPECS[name]
    expect(flag).toBeDefined()
    expect(spec).toBeDefined()
    expect({ char: spec!.char, value: spec!.value, options: spec!.options ? [...spec!.options] : undefined }).toEqual({
      char: flag!.char,
      value: flag!.type === 'option',
      options: flag!.options,
    })
  })

  test.each(served.map((name) => [name]))('--%s: read as oclif reads it', (name) => {
    const flag = flagsOf()[name]!
    const value = flag.options?.[0] ?? 'some-value'
    const spellings = [`--${name}`, ...(flag.char ? [`-${flag.char}`] : [])]
    for (const spelled of spellings) {
      if (flag.type === 'boolean') {
        expect(parseFlags([spelled], command)?.get(name)).toBe(true)
      } else {
        expect(parseFlags([spelled, value], command)?.get(name)).toBe(value)
        // A value outside the options is oclif's to refuse.
        if (flag.options) expect(parseFlags([spelled, 'not-an-option'], command)).toBeUndefined()
      }
    }
    if (flag.type === 'boolean') expect(parseFlags([`--${name}=x`], command)).toBeUndefined()
    else expect(parseFlags([`--${name}=${value}`], command)?.get(name)).toBe(value)
  })

  test('a declined flag, or one the command does not have, goes to the full path', () => {
    for (const name of declined) expect(parseFlags([`--${name}`], command)).toBeUndefined()
    const others = Object.keys(FLAG_SPECS).filter((name) => !(name in flagsOf()))
    for (const name of others)
      expect(parseFlags([`--${name}`, ...(FLAG_SPECS[name]!.value ? ['x'] : [])], command)).toBeUndefined()
    expect(parseFlags(['--help'], command)).toBeUndefined()
  })
})

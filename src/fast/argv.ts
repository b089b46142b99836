import { TOKEN_FORMATS } from '../integrations/formats.js'
import { STORE_KINDS } from '../stores/types.js'

/** The flags of one command line, as oclif would read them. */
export type Flags = Map<string, string | true>

/** One flag as the fast path reads it: the same char, kind and options as the command's own (oclif.manifest.json). */
export interface FlagSpec {
  char?: string
  /** Takes a value (`--env prod`, `--env=prod`); otherwise a boolean. */
  value: boolean
  /** The only values oclif accepts; anything else is oclif's to refuse. */
  options?: readonly string[]
}

/** Every flag the fast path knows, by name; a name means the same flag in every command that has it. */
export const FLAG_SPECS: Readonly<Record<string, FlagSpec>> = {
  env: { char: 'e', value: true },
  store: { value: true, options: STORE_KINDS },
  quiet: { char: 'q', value: false },
  'no-input': { value: false },
  format: { char: 'f', value: true, options: TOKEN_FORMATS },
  'min-ttl': { value: true },
  var: { value: true },
  all: { value: false },
  json: { value: false },
  names: { value: false },
  'id-token': { value: false },
}

/** The global flags (docs/design.md#commands), which every command takes. */
const GLOBAL_FLAGS = ['env', 'store', 'quiet', 'no-input']

/**
 * The commands the fast path parses (by oclif id): the flags it serves, and the flags of the
 * command it leaves to the full path on purpose (a line with one of those is declined).
 * test/unit/fast-argv-manifest.test.ts holds both lists to the command's flags in
 * oclif.manifest.json: a flag added to a command must be added to one of them.
 */
export const FAST_COMMANDS = {
  token: { flags: [...GLOBAL_FLAGS, 'format', 'min-ttl', 'var'], declined: ['force-refresh'] },
  'git-credential': { flags: GLOBAL_FLAGS, declined: [] },
  'kube-credential': { flags: [...GLOBAL_FLAGS, 'min-ttl', 'id-token'], declined: [] },
  status: { flags: [...GLOBAL_FLAGS, 'all', 'json'], declined: [] },
  'env:list': { flags: [...GLOBAL_FLAGS, 'json', 'names'], declined: [] },
} as const satisfies Record<string, { flags: readonly string[]; declined: readonly string[] }>

export type FastCommand = keyof typeof FAST_COMMANDS

/** The name a word on the command line spells (`-e`, `--env`), if the fast path knows it. */
function flagNamed(spelled: string): string | undefined {
  if (spelled.startsWith('--')) return Object.hasOwn(FLAG_SPECS, spelled.slice(2)) ? spelled.slice(2) : undefined
  if (/^-[^-]$/.test(spelled)) return Object.keys(FLAG_SPECS).find((name) => FLAG_SPECS[name]!.char === spelled[1])
  return undefined
}

/**
 * The flags of `command`, or undefined for anything the fast path leaves to oclif: help, an
 * unknown or repeated flag, a stray word, a flag value oclif would refuse. Leaving too much
 * to oclif costs time; taking too much would change behaviour.
 */
export function parseFlags(args: string[], command: FastCommand): Flags | undefined {
  const allowed: readonly string[] = FAST_COMMANDS[command].flags
  const flags: Flags = new Map()
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!
    const eq = word.startsWith('--') ? word.indexOf('=') : -1
    const name = flagNamed(eq > 0 ? word.slice(0, eq) : word)
    if (!name || !allowed.includes(name) || flags.has(name)) return undefined
    const spec = FLAG_SPECS[name]!
    if (!spec.value) {
      if (eq > 0) return undefined
      flags.set(name, true)
      continue
    }
    const value = eq > 0 ? word.slice(eq + 1) : args[++i]
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined
    if (spec.options && !spec.options.includes(value)) return undefined
    flags.set(name, value)
  }
  return flags
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags.get(name)
  return typeof value === 'string' ? value : undefined
}

/** The flags of one command line, as oclif would read them. */
export type Flags = Map<string, string | true>

const VALUE_FLAGS: Record<string, string> = { '-e': 'env', '--env': 'env', '-f': 'format', '--format': 'format', '--min-ttl': 'min-ttl', '--var': 'var', '--store': 'store' }
const BOOLEAN_FLAGS: Record<string, string> = { '-q': 'quiet', '--quiet': 'quiet', '--no-input': 'no-input', '--all': 'all', '--json': 'json', '--names': 'names' }

/** The global flags (docs/design.md#commands), which every command takes. */
export const GLOBAL_FLAGS = ['env', 'store', 'quiet', 'no-input']

/**
 * The flags, or undefined for anything the fast path leaves to oclif: help, an unknown or
 * repeated flag, a stray word, a flag value oclif would refuse. Leaving too much to oclif
 * costs time; taking too much would change behaviour.
 */
export function parseFlags(args: string[], allowed: string[]): Flags | undefined {
  const flags: Flags = new Map()
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!
    const eq = word.startsWith('--') ? word.indexOf('=') : -1
    const spelled = eq > 0 ? word.slice(0, eq) : word
    const name = VALUE_FLAGS[spelled] ?? BOOLEAN_FLAGS[spelled]
    if (!name || !allowed.includes(name) || flags.has(name)) return undefined
    if (BOOLEAN_FLAGS[spelled]) {
      if (eq > 0) return undefined
      flags.set(name, true)
      continue
    }
    const value = eq > 0 ? word.slice(eq + 1) : args[++i]
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined
    flags.set(name, value)
  }
  const store = flags.get('store')
  if (store !== undefined && store !== 'keychain' && store !== 'file') return undefined
  return flags
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags.get(name)
  return typeof value === 'string' ? value : undefined
}

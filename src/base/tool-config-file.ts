import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from './errors.js'
import { writeFileAtomic } from './private-file.js'

/**
 * Another program's config file that a setup command edits (kubectl's kubeconfig, docker's
 * config.json): read whole, and replaced whole so that the program never reads half of it.
 */

/** The file's text, or undefined when there is none yet; unreadable is a ConfigError (exit 2) with `fix`. */
export function readToolConfig(file: string, label: string, fix: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new ConfigError(`${label} ${file} cannot be read (${code}).`, fix)
  }
}

/**
 * Atomically (a temp file renamed over it), through a symlink to its target (a dotfiles
 * repo's link stays a link), keeping the mode it had; a new file is 0600 in a dir made 0700.
 */
export function replaceToolConfig(file: string, text: string): void {
  let target = file
  let mode = 0o600
  try {
    target = fs.realpathSync(file)
    mode = fs.statSync(target).mode & 0o777
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  }
  writeFileAtomic(target, text, mode)
}

import fs from 'node:fs'

import { UsageError } from '../base/errors.js'
import { type Platform, pathsOf, variable } from '../base/platform.js'
import { CMD_SWITCHES, UnsafeBatchArgument, batchCommandLine } from '../util/batch-command-line.js'

/**
 * How `exec` finds and starts a command on Windows (docs/design.md#windows). `spawn`
 * without a shell finds only `.exe` there, and a batch file must go through cmd.exe with
 * arguments quoted for cmd (src/util/batch-command-line.ts).
 */

/** What Windows searches when PATHEXT is not set. */
export const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD'

/** Whether a path names a regular file (a dir called `tool.exe` is not a command). */
export type IsFile = (path: string) => boolean

export const isFileOnDisk: IsFile = (path) => {
  try {
    return fs.statSync(path).isFile()
  } catch {
    return false
  }
}

function extensions(platform: Pick<Platform, 'os' | 'environ'>): string[] {
  const listed = (variable(platform, 'PATHEXT') ?? '')
    .split(';')
    .map((extension) => extension.trim())
    .filter((extension) => extension.startsWith('.') && extension.length > 1)
  return listed.length > 0 ? listed : DEFAULT_PATHEXT.split(';')
}

/** The dirs of PATH, without the quotes Windows allows around one; relative ones are left out. */
function searchDirs(platform: Pick<Platform, 'os' | 'environ'>): string[] {
  const paths = pathsOf(platform)
  return (variable(platform, 'PATH') ?? '')
    .split(';')
    .map((dir) => dir.trim().replace(/^"(.*)"$/, '$1'))
    .filter((dir) => dir !== '' && paths.isAbsolute(dir))
}

/**
 * The file a command name stands for on Windows, or undefined when there is none.
 *
 * - A name with a dir part (`.\build.cmd`, `C:\tools\x`) is that file: as given when it
 *   has an extension, then with each PATHEXT extension appended.
 * - A bare name is looked for in each PATH dir, in order, and in each dir as given (when
 *   it has an extension) and then with each PATHEXT extension, in PATHEXT's order.
 * - Never in the current dir, nor in a relative PATH entry, though cmd.exe and
 *   CreateProcess look there first: a `npm.cmd` dropped into a checked-out repo would
 *   otherwise run instead of the real npm. Go (1.19+) and Rust refuse it for the same
 *   reason; `.\tool` still runs a tool of the current dir when that is what is meant.
 */
export function resolveWindowsCommand(
  name: string,
  platform: Pick<Platform, 'os' | 'environ'>,
  isFile: IsFile = isFileOnDisk,
): string | undefined {
  const paths = pathsOf(platform)
  const exts = extensions(platform)
  const candidates = (file: string) => [...(paths.extname(file) ? [file] : []), ...exts.map((ext) => file + ext)]
  if (/[\\/]/.test(name) || /^[A-Za-z]:/.test(name)) return candidates(name).find(isFile)
  for (const dir of searchDirs(platform)) {
    const found = candidates(paths.join(dir, name)).find(isFile)
    if (found !== undefined) return found
  }
  return undefined
}

/** What to hand to `spawn` on Windows. */
export interface WindowsLaunch {
  readonly file: string
  readonly args: string[]
  /** The args are a finished command line (cmd.exe's), not words for Node to quote. */
  readonly windowsVerbatimArguments: boolean
}

/** cmd.exe of the system dir, never one found through PATH or the current dir. */
export function cmdExe(platform: Pick<Platform, 'os' | 'environ'>): string {
  const root = variable(platform, 'SystemRoot') ?? variable(platform, 'windir') ?? 'C:\\Windows'
  return pathsOf(platform).join(root, 'System32', 'cmd.exe')
}

/**
 * How to start the resolved `file`: an `.exe` or `.com` directly (Node quotes its
 * arguments as the C runtime reads them), a `.bat` or `.cmd` through cmd.exe with every
 * argument quoted for cmd. Any other kind cannot be started without its program, which is
 * a usage error naming it.
 */
export function windowsLaunch(
  file: string,
  args: readonly string[],
  platform: Pick<Platform, 'os' | 'environ'>,
): WindowsLaunch {
  const extension = pathsOf(platform).extname(file).toLowerCase()
  if (extension === '.exe' || extension === '.com') return { file, args: [...args], windowsVerbatimArguments: false }
  if (extension === '.bat' || extension === '.cmd') {
    let line: string
    try {
      line = batchCommandLine(file, args)
    } catch (error) {
      if (!(error instanceof UnsafeBatchArgument)) throw error
      throw new UsageError(
        error.message,
        'Pass that value another way (a file, or a variable), or run a program rather than a batch file.',
      )
    }
    return { file: cmdExe(platform), args: [...CMD_SWITCHES, line], windowsVerbatimArguments: true }
  }
  throw new UsageError(
    `${file} cannot be started directly: on Windows exec runs .exe, .com, .bat and .cmd files.`,
    'Name the program that runs it, e.g. tokenctl exec -- node script.js.',
  )
}

import fs from 'node:fs'
import path from 'node:path'

import { UsageError } from '../base/errors.js'
import { ensurePrivateDir, writeFileAtomic } from '../base/private-file.js'
import { currentPlatform, pathsOf, type Platform } from '../base/platform.js'
import { shellQuote } from '../util/shell-quote.js'

/**
 * The token as files, for programs that outlive one token (docs/design.md#long-running-programs):
 * the token alone (no newline), and the header line `curl -H @file` reads. Each write is
 * atomic (a temp file beside the target, then rename), so a reader sees the old token or the
 * new one, never a part of either.
 */
export interface TokenFileTargets {
  token?: string
  header?: string
}

export function headerLine(accessToken: string): string {
  return `Authorization: Bearer ${accessToken}`
}

export class TokenFiles {
  constructor(
    readonly targets: TokenFileTargets,
    private readonly mode = 0o600,
    /** Run before every write: the checks a target must pass each time, not only at the start. */
    private readonly check: (file: string) => void = () => {},
  ) {}

  write(accessToken: string): void {
    const { token, header } = this.targets
    if (token !== undefined) {
      this.check(token)
      writeFileAtomic(token, accessToken, this.mode)
    }
    if (header !== undefined) {
      this.check(header)
      writeFileAtomic(header, headerLine(accessToken), this.mode)
    }
  }
}

/**
 * A fresh private dir for one `exec --keep-fresh`, under the runtime dir (`exec/<pid>-XXXXXX`,
 * 0700, made by mkdtemp so that nobody else can have made it first), with `token` and
 * `header` in it. `remove()` deletes it with its files; it is also removed when this process
 * exits by any path Node still runs code on. A tokenctl killed outright (SIGKILL, a power
 * cut) leaves its dir behind: the next `exec --keep-fresh` removes those of pids that no
 * longer run.
 */
export class ExecTokenDir {
  readonly dir: string
  readonly files: TokenFiles
  private readonly removeOnExit = () => this.remove()

  constructor(runtimeDir: string, platform: Platform = currentPlatform()) {
    const paths = pathsOf(platform)
    const parent = paths.join(runtimeDir, 'exec')
    ensurePrivateDir(parent, 'The dir of the exec token files', 0o077, platform)
    removeAbandoned(parent)
    this.dir = fs.mkdtempSync(paths.join(parent, `${process.pid}-`))
    this.files = new TokenFiles({ token: paths.join(this.dir, 'token'), header: paths.join(this.dir, 'header') })
    process.on('exit', this.removeOnExit)
  }

  remove(): void {
    process.off('exit', this.removeOnExit)
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The dirs of `exec` runs whose tokenctl no longer runs: killed before it could clean up. */
function removeAbandoned(parent: string): void {
  for (const name of fs.readdirSync(parent)) {
    const pid = Number(name.split('-')[0])
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue
    fs.rmSync(path.join(parent, name), { recursive: true, force: true })
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * `--mode` of `sink`: octal, 0600 by default. Group read (0640) shares the token with the
 * file's group (a service's readers); nothing for other users, no execute bit, and no
 * group write: tokenctl is the only writer, and it replaces the file rather than writing into it.
 */
export function parseFileMode(text: string): number {
  const match = /^0?([0-7]{3})$/.exec(text.trim())
  if (!match) throw new UsageError(`--mode "${text.slice(0, 10)}" is not an octal file mode.`, 'Use 0600 or 0640.')
  const mode = parseInt(match[1]!, 8)
  const shown = `0${match[1]}`
  if ((mode & 0o007) !== 0)
    throw new UsageError(
      `--mode ${shown} opens the token file to every user of this machine.`,
      'Use 0600, or 0640 to share it with the file’s group.',
    )
  if ((mode & 0o111) !== 0 || (mode & 0o020) !== 0)
    throw new UsageError(
      `--mode ${shown} makes the token file ${(mode & 0o111) !== 0 ? 'executable' : 'writable by its group'}; only tokenctl writes it.`,
      'Use 0600, or 0640 to share it with the file’s group.',
    )
  return mode
}

/**
 * Check a `sink` target before every write: a path others could swap or read ahead of us is
 * refused (exit 2, naming it and the fix), never repaired. Its dir must be ours (or root's),
 * writable by nobody else, in dirs that nobody else can rename it out of; the path itself
 * must be nothing, or a regular file of ours (a symlink is refused, not followed or replaced:
 * whoever made it meant something else). Ownership and modes are POSIX only: on Windows the
 * dir must exist and the path must not be a link or a dir.
 */
export function checkSinkTarget(file: string, platform: Platform = currentPlatform()): void {
  const paths = pathsOf(platform)
  const dir = paths.dirname(file)
  let real: string
  try {
    real = fs.realpathSync(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      code === 'ENOENT'
        ? `The directory ${dir} does not exist.`
        : `The directory ${dir} cannot be used (${code ?? 'error'}).`,
      `Make it, private to you: mkdir -m 700 -p ${shellQuote(dir)}`,
    )
  }
  const posix = platform.os !== 'win32'
  const stat = fs.statSync(real)
  if (!stat.isDirectory())
    throw new UsageError(`${dir} is not a directory.`, 'Give a file path in a directory of yours.')
  if (posix) {
    checkOwner(real, stat, platform, 'directory')
    if ((stat.mode & 0o022) !== 0)
      throw new UsageError(
        `The directory ${dir} can be changed by other users (mode ${modeText(stat)}), so they could swap the token file for their own.`,
        `Run: chmod go-w ${shellQuote(dir)}`,
      )
    for (let above = paths.dirname(real); ; above = paths.dirname(above)) {
      const up = fs.statSync(above)
      checkOwner(above, up, platform, 'directory')
      if ((up.mode & 0o002) !== 0 && (up.mode & 0o1000) === 0)
        throw new UsageError(
          `${dir} is inside ${above}, which every user can change (mode ${modeText(up)}), so they could move the token file's directory away.`,
          `Run: chmod o-w ${shellQuote(above)}`,
        )
      if (above === paths.dirname(above)) break
    }
  }
  const target = fs.lstatSync(file, { throwIfNoEntry: false })
  if (target === undefined) return
  if (target.isSymbolicLink())
    throw new UsageError(
      `${file} is a symbolic link; tokenctl writes only to a file it can replace in place.`,
      `Give the path the link points to, or remove the link: rm ${shellQuote(file)}`,
    )
  if (!target.isFile())
    throw new UsageError(`${file} is not a regular file.`, 'Give the path of a file tokenctl may create and replace.')
  if (posix) checkOwner(file, target, platform, 'file')
}

/** Ours, or root's (a dir such as /run made by the system, which root alone can change anyway). */
function checkOwner(what: string, stat: fs.Stats, platform: Platform, kind: 'file' | 'directory'): void {
  if (platform.uid === undefined || stat.uid === platform.uid || (kind === 'directory' && stat.uid === 0)) return
  throw new UsageError(
    `The ${kind} ${what} belongs to another user (uid ${stat.uid}), so tokenctl will not ${kind === 'file' ? 'replace' : 'write in'} it.`,
    kind === 'file' ? `Remove it as its owner, or give another path.` : `Give a path in a directory of your own.`,
  )
}

function modeText(stat: fs.Stats): string {
  return (stat.mode & 0o7777).toString(8).padStart(4, '0')
}

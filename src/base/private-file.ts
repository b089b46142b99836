import fs from 'node:fs'
import path from 'node:path'

import { StoreUnavailableError } from './errors.js'
import { RETRY_MS, renameSyncRetrying, StillBusyError } from './fs-retry.js'
import { currentPlatform, pathsOf, type Platform, variable } from './platform.js'
import { shellQuote } from '../util/shell-quote.js'

/**
 * The user's own files and directories are the only local things tokenctl trusts. Another
 * local user who can create a path before us (a predictable name in a shared temp dir),
 * or swap a file for a FIFO or a symlink, could otherwise plant a token record we believe,
 * make a read hang for ever, or read what we write. So every private directory is checked
 * each time it is used, reads included, and every private file is checked on the open
 * descriptor, before a byte of it is read. Whatever fails a check is refused out loud
 * (exit 6, naming the path and the fix), never silently repaired: a directory someone
 * else could read may already have been read, and the person should know.
 */

/**
 * POSIX ownership and modes mean nothing on Windows; the per-user profile dir, which only
 * its user (and administrators) can open, is what protects files there. So on win32 the
 * owner and mode checks are skipped, and a private dir outside the profile is warned
 * about (warnOutsideProfile) instead (docs/design.md#windows).
 */
function posixChecks(platform: Pick<Platform, 'os'>): boolean {
  return platform.os !== 'win32'
}

/** No symlink is followed, and a FIFO or a device returns at once instead of blocking the open. */
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0

function mode(stat: fs.Stats): string {
  return (stat.mode & 0o777).toString(8).padStart(4, '0')
}

function kindOf(stat: fs.Stats): string {
  if (stat.isSymbolicLink()) return 'a symbolic link'
  if (stat.isDirectory()) return 'a directory'
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isSocket()) return 'a socket'
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

function refuse(message: string, fix: string): StoreUnavailableError {
  return new StoreUnavailableError(message, fix)
}

/**
 * Check that `dir` is a private directory of ours: `lstat` (a symlink is refused, not
 * followed), a real directory, owned by us, no group or other bits. False when it does
 * not exist (nothing in it can be read); throws StoreUnavailableError (exit 6) otherwise.
 * `label` names it for a person: "The runtime dir". `forbiddenBits`: 0o022 for a dir that
 * holds nothing secret (it may be readable, never writable, by others).
 */
export function checkPrivateDir(
  dir: string,
  label = 'The directory',
  forbiddenBits = 0o077,
  platform: Platform = currentPlatform(),
): boolean {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      return false
    throw refuse(
      `${label} ${dir} cannot be checked (${(error as NodeJS.ErrnoException).code ?? 'error'}), so tokenctl will not use it.`,
      `Check the permissions of ${path.dirname(dir)}.`,
    )
  }
  if (stat.isSymbolicLink()) {
    throw refuse(
      `${label} ${dir} is a symbolic link, so tokenctl will not use it.`,
      `Remove the link (rm ${shellQuote(dir)}); tokenctl then makes a private directory there.`,
    )
  }
  if (!stat.isDirectory()) {
    throw refuse(
      `${label} ${dir} is ${kindOf(stat)}, not a directory, so tokenctl will not use it.`,
      `Remove it (rm ${shellQuote(dir)}); tokenctl then makes a private directory there.`,
    )
  }
  if (!posixChecks(platform)) {
    warnOutsideProfile(dir, label, platform)
    return true
  }
  const uid = platform.uid
  if (uid !== undefined && stat.uid !== uid) {
    throw refuse(
      `${label} ${dir} belongs to another user (uid ${stat.uid}), so tokenctl will not use it: whatever is in it may have been planted.`,
      `Remove it (rm -r ${shellQuote(dir)}); tokenctl then makes a private directory there.`,
    )
  }
  if ((stat.mode & forbiddenBits) !== 0) {
    throw refuse(
      `${label} ${dir} is open to other users (mode ${mode(stat)}), so tokenctl will not use it.`,
      `Run: chmod ${forbiddenBits === 0o077 ? '700' : 'go-w'} ${shellQuote(dir)}`,
    )
  }
  checkParent(dir, label)
  return true
}

/**
 * A private directory in a directory others can write is not private: they can rename it
 * away (and a second lock dir appears, and with it a second refresh) or put their own in
 * its place. So its parent must not be writable by everyone, unless it is sticky (like
 * /tmp, where only an entry's owner may rename it). Its group and owner are not judged:
 * with a group per user (Fedora's umask 002) ~/.config is group-writable by the user
 * alone, and a root-run CI container often has a HOME owned by the runner's uid; what is
 * in our own dir is still checked, dir and file, on every use.
 */
function checkParent(dir: string, label: string): void {
  const parent = path.dirname(dir)
  let stat: fs.Stats
  try {
    stat = fs.statSync(parent)
  } catch {
    return
  }
  if ((stat.mode & 0o002) !== 0 && (stat.mode & 0o1000) === 0) {
    throw refuse(
      `${label} ${dir} is in ${parent}, which other users can change (mode ${mode(stat)}), so tokenctl will not use it.`,
      `Run: chmod o-w ${shellQuote(parent)}`,
    )
  }
}

/**
 * Make `dir` (and its missing parents, 0700) exist, then check it as `checkPrivateDir` does.
 * A directory that fails the check is refused, never chmod-ed into shape: one that others
 * could read or write may already have been read or written.
 */
export function ensurePrivateDir(
  dir: string,
  label = 'The directory',
  forbiddenBits = 0o077,
  platform: Platform = currentPlatform(),
): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    // EEXIST: something that is not a directory is in the way; the check below names it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  if (!checkPrivateDir(dir, label, forbiddenBits, platform)) {
    throw refuse(`${label} ${dir} could not be made.`, `Check the permissions of ${path.dirname(dir)}.`)
  }
}

export interface ReadOptions {
  /** Names the file for a person: "The access-token cache". */
  label: string
  /**
   * Follow a symlink at the path (the target is still checked). Only for files with no
   * secret in them that people link from elsewhere (the config file).
   */
  followSymlink?: boolean
  /** Mode bits that must be clear: group and other, unless the file holds nothing secret. */
  forbiddenBits?: number
  /** Owners besides us whose files are accepted (root, for a file of a dotfile manager's store). */
  alsoOwnedBy?: readonly number[]
  /** The fix for a file whose mode has a forbidden bit. */
  chmod?: string
  /** Whose rules apply (the owner and mode checks are POSIX only); the running process's unless given. */
  platform?: Platform
}

/**
 * Read a file that only this user may have written: opened with O_NOFOLLOW (a symlink is
 * refused, not followed) and O_NONBLOCK (a FIFO planted at the path returns at once instead
 * of waiting for a writer for ever), then `fstat` on the descriptor — the very file that
 * will be read, not whatever the path names a moment later — must show a regular file,
 * ours, with no group or other bits. Undefined when there is no file; StoreUnavailableError
 * (exit 6, naming the path) for anything that fails a check; other errors as they come.
 */
export function readPrivateFile(file: string, options: ReadOptions): string | undefined {
  const fd = openPrivateFile(file, fs.constants.O_RDONLY, options)
  if (fd === undefined) return undefined
  try {
    return fs.readFileSync(fd, 'utf8')
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Open a private file as `readPrivateFile` does, with `flags` (O_RDONLY, or O_WRONLY|
 * O_APPEND|O_CREAT for a log; O_NOFOLLOW and O_NONBLOCK are always added), and check it on
 * the descriptor before anything is read or written. A file O_CREAT makes gets mode 0600.
 * Undefined when there is no file (and O_CREAT was not asked); the caller closes the fd.
 */
export function openPrivateFile(file: string, flags: number, options: ReadOptions): number | undefined {
  const { label } = options
  const forbidden = options.forbiddenBits ?? 0o077
  let fd: number
  try {
    fd = fs.openSync(file, flags | O_NONBLOCK | (options.followSymlink ? 0 : O_NOFOLLOW), 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && (flags & fs.constants.O_CREAT) === 0) return undefined
    // O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD.
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE') {
      throw refuse(
        `${label} ${file} is a symbolic link, so tokenctl will not follow it.`,
        `Remove the link: rm ${shellQuote(file)}`,
      )
    }
    // Opening a FIFO for writing with O_NONBLOCK and no reader fails with ENXIO instead of waiting.
    if (code === 'ENXIO')
      throw refuse(
        `${label} ${file} is a FIFO, not a regular file, so tokenctl will not use it.`,
        `Remove it: rm ${shellQuote(file)}`,
      )
    throw error
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) {
      const what = stat.isDirectory() ? `rm -r ${shellQuote(file)}` : `rm ${shellQuote(file)}`
      throw refuse(
        `${label} ${file} is ${kindOf(stat)}, not a regular file, so tokenctl will not ${(flags & fs.constants.O_WRONLY) !== 0 ? 'write to' : 'read'} it.`,
        `Remove it: ${what}`,
      )
    }
    const platform = options.platform ?? currentPlatform()
    if (posixChecks(platform)) {
      const uid = platform.uid
      if (uid !== undefined && stat.uid !== uid && !(options.alsoOwnedBy ?? []).includes(stat.uid)) {
        throw refuse(
          `${label} ${file} belongs to another user (uid ${stat.uid}), so tokenctl will not use it.`,
          `Remove it: rm ${shellQuote(file)}`,
        )
      }
      if ((stat.mode & forbidden) !== 0) {
        const how =
          (stat.mode & forbidden & 0o044) !== 0 ? 'can be read by other users' : 'can be changed by other users'
        throw refuse(
          `${label} ${file} ${how} (mode ${mode(stat)}), so tokenctl will not use it.`,
          `Run: ${options.chmod ?? 'chmod 600'} ${shellQuote(file)}`,
        )
      }
    }
    return fd
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}

/**
 * Whether anything (a file, a link, a FIFO) is at `file`, without following a symlink. A
 * path that cannot be looked at (a directory on the way we may not search, or a file where
 * a directory should be) is exit 6 naming it, not an internal error.
 */
export function pathExists(file: string, label = 'The file'): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw refuse(
      `${label} ${file} cannot be checked (${code}), so tokenctl will not use it.`,
      'Check each directory on the way to it: every one must be a directory this user can search (XDG_RUNTIME_DIR and XDG_STATE_HOME included).',
    )
  }
}

/**
 * Write a file so that a reader sees either the old content or the new, never a part:
 * a temp file beside it (same filesystem), fsync, rename, fsync of the directory.
 */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const dir = path.dirname(file)
  removeStaleTemps(dir, path.basename(file))
  // Unique enough with the pid; O_EXCL below refuses a clash rather than sharing a file.
  // (No node:crypto here: loading it costs the token fast path ~5 ms.)
  const temp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  )
  let fd: number | undefined
  try {
    fd = fs.openSync(temp, 'wx', mode)
    // The mode asked for, not what the umask leaves of it: a sink's 0640 must reach its group.
    fs.fchmodSync(fd, mode)
    fs.writeFileSync(fd, data)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    // Windows refuses a rename onto a file another program holds open until it lets go.
    renameSyncRetrying(temp, file)
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    if (error instanceof StillBusyError) {
      throw refuse(
        `The file ${file} could not be replaced: another program kept it open (${error.code}) for ${RETRY_MS / 1000} s. Its previous content is intact.`,
        'Close the program that has it open (an editor, a backup or virus scanner), then try again.',
      )
    }
    throw error
  }
  syncDir(dir)
}

/**
 * A profile dir is private to its user on Windows; a dir elsewhere (another drive, a share,
 * `C:\tokenctl`) may be open to every user of the machine, and tokenctl cannot tell:
 * reading its ACL needs `icacls` or a native module, and setting one a process per write.
 * So the person is told, once per dir and run, and decides.
 * The profile is `%USERPROFILE%`, else the platform's home; compared without case, as
 * Windows compares paths. Undefined when `dir` is inside it.
 */
export function outsideProfile(dir: string, platform: Pick<Platform, 'os' | 'environ' | 'home'>): string | undefined {
  const paths = pathsOf(platform)
  const profile = variable(platform, 'USERPROFILE') || platform.home
  if (!profile) return undefined
  return isWithin(paths, paths.resolve(profile).toLowerCase(), paths.resolve(dir).toLowerCase()) ? undefined : profile
}

/** `inner` is `outer` or a path in it. */
function isWithin(paths: path.PlatformPath, outer: string, inner: string): boolean {
  const relative = paths.relative(outer, inner)
  return relative === '' || (!relative.startsWith('..') && !paths.isAbsolute(relative))
}

const WARNED = Symbol.for('tokenctl.outside-profile-warned')

/** The dirs warned about in this process: shared by the fast path's bundle and the full CLI, which run in one process. */
function warnedDirs(): Set<string> {
  const holder = globalThis as { [WARNED]?: Set<string> }
  holder[WARNED] ??= new Set()
  return holder[WARNED]
}

/**
 * On win32: a warning on stderr, once per run for a dir and the dirs in it, when a private
 * dir lies outside the user's profile. `write` is for tests.
 */
export function warnOutsideProfile(
  dir: string,
  label: string,
  platform: Pick<Platform, 'os' | 'environ' | 'home'>,
  write: (text: string) => void = (text) => void process.stderr.write(text),
): void {
  if (platform.os !== 'win32') return
  const profile = outsideProfile(dir, platform)
  if (profile === undefined) return
  const paths = pathsOf(platform)
  const key = paths.resolve(dir).toLowerCase()
  const warned = warnedDirs()
  // The runtime dir and the lock dir in it are one place to a person: one warning.
  for (const seen of warned) if (isWithin(paths, seen, key) || isWithin(paths, key, seen)) return
  warned.add(key)
  write(
    `Warning: ${label} ${dir} is outside your profile (${profile}), so other users of this computer may be able to read it; tokenctl cannot check that on Windows. Keep it under your profile, or make sure only you can open it.
`,
  )
}

/**
 * A process killed between writing its temp file and the rename leaves the temp file,
 * secrets and all, beside the real one. The next write removes such files: those of a pid
 * that no longer runs, or older than a write could ever take.
 */
function removeStaleTemps(dir: string, base: string): void {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  const prefix = `.${base}.`
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const pid = Number(name.slice(prefix.length).split('.')[0])
    if (pid === process.pid) continue
    const temp = path.join(dir, name)
    try {
      if (!isRunning(pid) || Date.now() - fs.statSync(temp).mtimeMs > 60_000) fs.rmSync(temp, { force: true })
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

function syncDir(dir: string): void {
  // Makes the rename itself durable; not every platform lets a directory be opened.
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // best effort
  }
}

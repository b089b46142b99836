import fs from 'node:fs'
import path from 'node:path'

/**
 * Make `dir` (and its parents) exist, and make sure the last part is a real directory
 * that belongs to us and that nobody else can read. Throws a plain Error with a reason
 * the caller turns into a typed one.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = fs.lstatSync(dir)
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`)
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user`)
  }
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700)
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
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`)
  let fd: number | undefined
  try {
    fd = fs.openSync(temp, 'wx', mode)
    fs.writeFileSync(fd, data)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    fs.renameSync(temp, file)
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    throw error
  }
  syncDir(dir)
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

/** Read a file, or undefined when it does not exist. */
export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

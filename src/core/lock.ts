import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { ensurePrivateDir } from '../util/private-file.js'
import { StoreUnavailableError } from './errors.js'

/** SPEC §5: a lock left by a crashed process is taken over within 30 s. */
export const STALE_LOCK_MS = 30_000

export type Release = () => void

interface Holder {
  pid: number
  at: number
}

/**
 * An inter-process lock: a file created with O_EXCL in the user's private runtime dir.
 * A lock whose holder is gone (no such pid) or older than STALE_LOCK_MS is broken; the
 * breaking itself goes through a second O_EXCL file so that two waiters never both break
 * the lock and then delete each other's fresh one.
 */
export async function acquireLock(dir: string, name: string, options: { staleMs?: number; onWait?: () => void } = {}): Promise<Release> {
  const staleMs = options.staleMs ?? STALE_LOCK_MS
  try {
    ensurePrivateDir(dir)
  } catch (error) {
    throw new StoreUnavailableError(`The lock dir ${dir} cannot be used: ${(error as Error).message}.`, 'Check the permissions of $XDG_RUNTIME_DIR (or the temp dir).', { cause: error })
  }
  const file = path.join(dir, `${name}.lock`)
  let delay = 10
  let waited = false
  for (;;) {
    if (tryCreate(file)) return () => release(file)
    if (!waited) {
      waited = true
      options.onWait?.()
    }
    breakIfStale(file, staleMs)
    await sleep(delay)
    delay = Math.min(delay * 2, 100)
  }
}

function tryCreate(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'wx', 0o600)
    fs.writeSync(fd, JSON.stringify({ pid: process.pid, at: Date.now() } satisfies Holder))
    fs.closeSync(fd)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new StoreUnavailableError(`The lock file ${file} cannot be created (${(error as NodeJS.ErrnoException).code}).`, 'Check the permissions of $XDG_RUNTIME_DIR (or the temp dir).')
  }
}

function release(file: string): void {
  const holder = readHolder(file)
  if (holder?.pid === process.pid) fs.rmSync(file, { force: true })
}

function breakIfStale(file: string, staleMs: number): void {
  const holder = readHolder(file)
  if (holder === undefined || !isStale(holder, staleMs)) return
  const breaker = `${file}.break`
  if (!tryCreate(breaker)) {
    // Someone else is breaking it, or crashed while doing so: clear a breaker that old.
    const breakerHolder = readHolder(breaker)
    if (breakerHolder && Date.now() - breakerHolder.at > 5_000) fs.rmSync(breaker, { force: true })
    return
  }
  try {
    const again = readHolder(file)
    if (again && again.pid === holder.pid && again.at === holder.at) fs.rmSync(file, { force: true })
  } finally {
    fs.rmSync(breaker, { force: true })
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  if (Date.now() - holder.at > staleMs) return true
  if (holder.pid === process.pid) return false
  if (holder.pid <= 0) return false
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (error) {
    // EPERM: the pid exists but is someone else's; the lock dir is ours, so treat it as alive.
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

function readHolder(file: string): Holder | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as Holder
    if (typeof value.pid === 'number' && typeof value.at === 'number') return value
  } catch {
    // A holder that crashed between create and write leaves an empty file.
  }
  // Unreadable content: judge by the file's age alone.
  try {
    return { pid: -1, at: fs.statSync(file).mtimeMs }
  } catch {
    return undefined
  }
}

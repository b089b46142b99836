import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { ensurePrivateDir } from '../util/private-file.js'
import { debug } from './debug.js'
import { StoreUnavailableError } from './errors.js'

/** SPEC §5: a lock left by a crashed process is taken over within 30 s. */
export const STALE_LOCK_MS = 30_000

/** How long a waiter stays quiet before it tells the person why nothing happens. */
const NOTICE_MS = 2_000

export type Release = () => void

export interface LockHolder {
  pid: number
  /** When the holder last showed it is alive (epoch ms): it took the lock, or its heartbeat since. */
  at: number
}

export interface LockOptions {
  staleMs?: number
  /** Called at once when the lock is taken by someone else. */
  onWait?: () => void
  /** Called once when the wait has lasted a while (NOTICE_MS): say who is in the way. */
  onLongWait?: (holder: LockHolder) => void
  /** Called when a lock whose holder is still running is taken over, as it stopped showing life. */
  onTakeOver?: (holder: LockHolder) => void
}

/**
 * An inter-process lock: a file created with O_EXCL. A lock whose holder is gone (no such
 * pid) or that shows no life for STALE_LOCK_MS is broken; the breaking itself goes through
 * a second O_EXCL file so that two waiters never both break the lock and then delete each
 * other's fresh one. A holder rewrites the file four times per stale time, so one that waits long
 * for a server (a TOKENCTL_TIMEOUT above 30 s) is not taken for dead: breaking it would
 * send its refresh token a second time, and a server with reuse detection would then
 * revoke the whole login.
 */
export async function acquireLock(dir: string, name: string, options: LockOptions = {}): Promise<Release> {
  const staleMs = options.staleMs ?? STALE_LOCK_MS
  try {
    ensurePrivateDir(dir)
  } catch (error) {
    throw new StoreUnavailableError(`The lock dir ${dir} cannot be used: ${(error as Error).message}.`, `Check the permissions of ${dir}.`, { cause: error })
  }
  const file = path.join(dir, `${name}.lock`)
  const handed = handedLocks().get(file)
  if (handed) {
    handedLocks().delete(file)
    debug('lock', () => `took ${file} over from the fast path`)
    return handed.release
  }
  let delay = 10
  let waitedSince: number | undefined
  let noticed = false
  for (;;) {
    const at = tryCreate(file)
    if (at !== undefined) {
      if (waitedSince !== undefined) debug('lock', () => `got ${file} after ${Date.now() - waitedSince!} ms`)
      // Four beats per stale time: a slow but live holder never looks stale.
      return holdWithHeartbeat(file, at, staleMs / 4)
    }
    const holder = readHolder(file)
    if (waitedSince === undefined) {
      waitedSince = Date.now()
      debug('lock', () => `waiting for ${file} (held by pid ${holder?.pid ?? '?'})`)
      options.onWait?.()
    }
    // Not while the file is caught empty (a holder between creating and writing it, or
    // rewriting it for its heartbeat): a person would be told of "pid -1".
    if (!noticed && holder && holder.pid > 0 && Date.now() - waitedSince >= NOTICE_MS) {
      noticed = true
      options.onLongWait?.(holder)
    }
    breakIfStale(file, staleMs, options)
    await sleep(delay)
    delay = Math.min(delay * 2, 100)
  }
}

/** What a person waiting on an env's lock is told (the full path and the fast path alike). */
export function envLockNotices(env: string, warn: ((message: string) => void) | undefined): LockOptions {
  const seconds = (holder: LockHolder) => Math.round((Date.now() - holder.at) / 1000)
  return {
    onLongWait: (holder) => warn?.(`Waiting for another tokenctl (pid ${holder.pid}) that is working on "${env}"; its lock is taken over if it shows no life for ${STALE_LOCK_MS / 1000} s.`),
    onTakeOver: (holder) => warn?.(`Took over the lock of "${env}" from pid ${holder.pid}, which had shown no life for ${seconds(holder)} s.`),
  }
}

const HANDED = Symbol.for('tokenctl.handed-locks')
type HandedLocks = Map<string, { release: Release; askedAt: number }>

function handedLocks(): HandedLocks {
  const holder = globalThis as { [HANDED]?: HandedLocks }
  if (!holder[HANDED]) {
    holder[HANDED] = new Map()
    // A lock handed over but never taken (the full path failed before it needed it) ends with the process.
    process.once('exit', () => {
      for (const { release } of holder[HANDED]!.values()) release()
    })
  }
  return holder[HANDED]
}

/**
 * The fast path of bin/run.js takes an env's lock when its cached token is stale and hands
 * it to the full CLI in the same process: the next acquireLock of that lock gets it at once.
 * So a crowd of processes waits on the lock in the fast path, and each is served there
 * from the cache the first one refreshed, instead of every one of them loading oclif only
 * to find the work done. The fast path is a bundle of its own, so the two share a global.
 */
export function handOverLock(dir: string, name: string, release: Release, askedAt: number): void {
  handedLocks().set(path.join(dir, `${name}.lock`), { release, askedAt })
}

/**
 * When the fast path first found the token stale, if it handed this lock over: work another
 * process finished after that moment was done for this one too (session.ts `justObtained`).
 */
export function handedLockAskedAt(dir: string, name: string): number | undefined {
  return handedLocks().get(path.join(dir, `${name}.lock`))?.askedAt
}

/** Creates the lock file; the time written in it, or undefined when someone else has it. */
function tryCreate(file: string): number | undefined {
  try {
    const at = Date.now()
    const fd = fs.openSync(file, 'wx', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, at } satisfies LockHolder))
    } finally {
      fs.closeSync(fd)
    }
    return at
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw new StoreUnavailableError(`The lock file ${file} cannot be created (${(error as NodeJS.ErrnoException).code}).`, `Check the permissions of ${path.dirname(file)}.`, { cause: error })
  }
}

function holdWithHeartbeat(file: string, takenAt: number, everyMs: number): Release {
  let last = takenAt
  const beat = setInterval(() => {
    // Only while the file is still ours, as we last wrote it.
    const holder = readHolder(file)
    if (holder?.pid !== process.pid || holder.at !== last) return
    const at = Date.now()
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, at } satisfies LockHolder))
      last = at
    } catch {
      // A lock dir gone read-only: the lock goes stale, which is the safe way to fail.
    }
  }, everyMs)
  beat.unref()
  return () => {
    clearInterval(beat)
    release(file)
  }
}

function release(file: string): void {
  const holder = readHolder(file)
  if (holder?.pid === process.pid) fs.rmSync(file, { force: true })
}

function breakIfStale(file: string, staleMs: number, options: LockOptions): void {
  const holder = readHolder(file)
  if (holder === undefined) return
  const state = staleness(holder, staleMs)
  if (state === 'fresh') return
  const breaker = `${file}.break`
  if (tryCreate(breaker) === undefined) {
    // Someone else is breaking it, or crashed while doing so: clear a breaker that old.
    const breakerHolder = readHolder(breaker)
    if (breakerHolder && Date.now() - breakerHolder.at > 5_000) fs.rmSync(breaker, { force: true })
    return
  }
  try {
    const again = readHolder(file)
    if (again && again.pid === holder.pid && again.at === holder.at) {
      fs.rmSync(file, { force: true })
      debug('lock', () => `broke ${file}: pid ${holder.pid} ${state === 'gone' ? 'is gone' : `showed no life for ${Date.now() - holder.at} ms`}`)
      if (state === 'silent' && holder.pid > 0) options.onTakeOver?.(holder)
    }
  } finally {
    fs.rmSync(breaker, { force: true })
  }
}

/** `gone`: the holder process no longer exists; `silent`: it has not shown life for staleMs. */
function staleness(holder: LockHolder, staleMs: number): 'fresh' | 'gone' | 'silent' {
  if (Date.now() - holder.at > staleMs) return 'silent'
  if (holder.pid === process.pid) return 'fresh'
  if (holder.pid <= 0) return 'fresh'
  try {
    process.kill(holder.pid, 0)
    return 'fresh'
  } catch (error) {
    // EPERM: the pid exists but is someone else's; the lock dir is ours, so treat it as alive.
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : 'fresh'
  }
}

function readHolder(file: string): LockHolder | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as LockHolder
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

import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { checkPrivateDir, ensurePrivateDir, readPrivateFile } from './private-file.js'
import { shellQuote } from '../util/shell-quote.js'
import { debug } from './debug.js'
import { StoreUnavailableError } from './errors.js'
import { isFromTheFuture } from './freshness.js'
import { isTransientFsError, RETRY_MS } from './fs-retry.js'

/** docs/design.md#where-things-are-kept: a lock left by a crashed process is taken over within 30 s. */
export const STALE_LOCK_MS = 30_000

/** How long a waiter stays quiet before it tells the person why nothing happens. */
const NOTICE_MS = 2_000

/** The shortest wait for a holder that is alive and beating before the waiter gives up. */
export const MIN_MAX_WAIT_MS = 120_000

export type Release = () => void

export interface LockHolder {
  pid: number
  /** When the holder last showed it is alive (epoch ms): it took the lock, or its heartbeat since. */
  at: number
}

/** Why a lock was taken over from a holder that may still run: it stopped beating, or its beat was dated in the future. */
export type TakeOverReason = 'silent' | 'future'

export interface LockOptions {
  staleMs?: number
  /**
   * How long to wait for one live holder (alive pid, fresh heartbeat) before giving up with
   * an error; maxLockWaitMs() unless given.
   */
  maxWaitMs?: number
  /**
   * The lock's dir holds nothing secret (the config dir, for the config's own lock): it may
   * be readable by others, as long as nobody else can write in it. Otherwise it must be 0700.
   */
  dirHoldsNoSecret?: boolean
  /**
   * The lock dir is inside a private dir that is checked too, on every use (the env locks'
   * dir inside the runtime dir): whoever could change that dir could move the locks away,
   * and two processes would refresh at once. Its label for a person: "The runtime dir".
   */
  privateParent?: string
  /** Names the lock in the error when the wait ends: `the lock of "prod"`. */
  label?: string
  /** Called at once when the lock is taken by someone else. */
  onWait?: () => void
  /** Called once when the wait has lasted a while (NOTICE_MS): say who is in the way. */
  onLongWait?: (holder: LockHolder) => void
  /** Called when a lock whose holder is still running is taken over, as it stopped showing life. */
  onTakeOver?: (holder: LockHolder, why: TakeOverReason) => void
}

/**
 * How long a waiter waits for a live holder: 2 minutes, or four request timeouts when
 * TOKENCTL_TIMEOUT is longer (a holder may make a few requests: a refresh, the login
 * fallback, a discovery). Read here, not through protocols/http.ts, which loads got: the fast
 * path waits on locks too. A value that is not a number is protocols/http.ts's to report.
 */
export function maxLockWaitMs(environ: Readonly<Record<string, string | undefined>> = process.env): number {
  const seconds = Number(environ.TOKENCTL_TIMEOUT)
  const timeoutMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15_000
  return Math.max(MIN_MAX_WAIT_MS, 4 * timeoutMs)
}

/**
 * An inter-process lock: a file created with O_EXCL. A lock whose holder is gone (no such
 * pid) or that shows no life for STALE_LOCK_MS is broken; the breaking itself goes through
 * a second O_EXCL file so that two waiters never both break the lock and then delete each
 * other's fresh one. A holder rewrites the file four times per stale time, so one that waits long
 * for a server (a TOKENCTL_TIMEOUT above 30 s) is not taken for dead: breaking it would
 * send its refresh token a second time, and a server with reuse detection would then
 * revoke the whole login.
 *
 * Every wait ends. Something at the lock path that is not a regular file of ours (a
 * directory, a FIFO, a symlink) is an error at once, naming it. A heartbeat dated in the
 * future is no sign of life: the holder's silence is counted from when this waiter first
 * saw that time, so it is taken over after the stale time unless it writes a believable
 * beat (a live holder whose clock was set back does so within a quarter of it). And a
 * holder that is alive and beating but keeps the lock past maxWaitMs ends the wait with an
 * error naming its pid and the lock: exit 6, like a keychain that does not answer in time,
 * since the store's state cannot be known while another process is changing it.
 */
export async function acquireLock(dir: string, name: string, options: LockOptions = {}): Promise<Release> {
  const staleMs = options.staleMs ?? STALE_LOCK_MS
  const maxWaitMs = options.maxWaitMs ?? maxLockWaitMs()
  try {
    if (options.privateParent) checkPrivateDir(path.dirname(dir), options.privateParent)
    ensurePrivateDir(dir, 'The lock dir', options.dirHoldsNoSecret ? 0o022 : 0o077)
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error
    throw new StoreUnavailableError(
      `The lock dir ${dir} cannot be used: ${(error as Error).message}.`,
      `Check the permissions of ${dir}.`,
      { cause: error },
    )
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
  const seen = new Sightings()
  /** Since when creating or reading the lock file has failed as on Windows while another process has it open or deletes it. */
  let busySince: number | undefined
  for (;;) {
    try {
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
      if (holder) seen.saw(holder)
      // Not while the file is caught empty (a holder between creating and writing it, or
      // rewriting it for its heartbeat): a person would be told of "pid -1".
      if (!noticed && holder && holder.pid > 0 && Date.now() - waitedSince >= NOTICE_MS) {
        noticed = true
        options.onLongWait?.(holder)
      }
      if (!breakIfStale(file, staleMs, options, seen) && holder && Date.now() - seen.holderSince >= maxWaitMs) {
        throw tooLong(file, holder, seen.holderSince, options.label)
      }
      busySince = undefined
    } catch (error) {
      // Windows: a lock file being deleted (by its holder's release, or a waiter breaking
      // it) cannot be created or opened (EPERM) until the last handle on it closes; that
      // passes, so it is tried again for a bounded time (docs/design.md#windows).
      if (!isTransientFsError((error as Error).cause)) throw error
      busySince ??= Date.now()
      if (Date.now() - busySince >= RETRY_MS) throw error
      debug('lock', () => `${file} is busy (${((error as Error).cause as NodeJS.ErrnoException).code}); trying again`)
    }
    await sleep(delay)
    delay = Math.min(delay * 2, 100)
  }
}

/**
 * What a waiter has seen of the lock file, by its own clock: since when the same holder has
 * held it (for the maximum wait), and since when each time dated in the future has stood
 * unchanged (such a time is no sign of life, so silence is counted from its first sighting).
 */
class Sightings {
  holderSince = Date.now()
  private pid: number | undefined
  private readonly future = new Map<string, number>()

  saw(holder: LockHolder): void {
    // A file caught empty (pid -1) is the same holder mid-write, not a new one.
    if (holder.pid > 0 && holder.pid !== this.pid) {
      if (this.pid !== undefined) this.holderSince = Date.now()
      this.pid = holder.pid
    }
  }

  /** The time the holder last showed life, as far as this waiter can believe it. */
  believedAt(holder: LockHolder, now = Date.now()): number {
    if (!isFromTheFuture(holder.at, now)) return holder.at
    const key = `${holder.pid}:${holder.at}`
    const first = this.future.get(key)
    if (first !== undefined) return first
    this.future.set(key, now)
    return now
  }
}

function tooLong(file: string, holder: LockHolder, since: number, label: string | undefined): StoreUnavailableError {
  const seconds = Math.round((Date.now() - since) / 1000)
  const who = holder.pid > 0 ? `pid ${holder.pid}` : 'a process that did not write its pid'
  return new StoreUnavailableError(
    `Gave up waiting for ${label ?? 'the lock'} (${file}): ${who} has held it for ${seconds} s and is still alive and working.`,
    holder.pid > 0
      ? `Wait for it to finish and try again; if it is stuck, end it (kill ${holder.pid}) and tokenctl takes the lock over.`
      : `Wait and try again; if no tokenctl is running, remove the lock: rm ${shellQuote(file)}`,
  )
}

/**
 * The options of an env's lock (the full path and the fast path alike): what a person
 * waiting on it is told, and the runtime dir the locks dir is in, checked with it.
 */
export function envLockNotices(env: string, warn: ((message: string) => void) | undefined): LockOptions {
  const seconds = (holder: LockHolder) => Math.round(Math.abs(Date.now() - holder.at) / 1000)
  return {
    label: `the lock of "${env}"`,
    privateParent: 'The runtime dir',
    onLongWait: (holder) =>
      warn?.(
        `Waiting for another tokenctl (pid ${holder.pid}) that is working on "${env}"; its lock is taken over if it shows no life for ${STALE_LOCK_MS / 1000} s.`,
      ),
    onTakeOver: (holder, why) =>
      warn?.(
        why === 'future'
          ? `Took over the lock of "${env}" from pid ${holder.pid}, whose last sign of life was dated ${seconds(holder)} s in the future.`
          : `Took over the lock of "${env}" from pid ${holder.pid}, which had shown no life for ${seconds(holder)} s.`,
      ),
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
    // O_EXCL: an existing path of any kind, a symlink included, is never opened or followed.
    const fd = fs.openSync(file, 'wx', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, at } satisfies LockHolder))
    } finally {
      fs.closeSync(fd)
    }
    return at
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw new StoreUnavailableError(
      `The lock file ${file} cannot be created (${(error as NodeJS.ErrnoException).code}).`,
      `Check the permissions of ${path.dirname(file)}.`,
      { cause: error },
    )
  }
}

const REWRITE =
  fs.constants.O_WRONLY | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)

function holdWithHeartbeat(file: string, takenAt: number, everyMs: number): Release {
  let last = takenAt
  const beat = setInterval(() => {
    try {
      // Only while the file is still ours, as we last wrote it.
      const holder = readHolder(file)
      if (holder?.pid !== process.pid || holder.at !== last) return
      const at = Date.now()
      const fd = fs.openSync(file, REWRITE)
      try {
        fs.writeSync(fd, JSON.stringify({ pid: process.pid, at } satisfies LockHolder))
      } finally {
        fs.closeSync(fd)
      }
      last = at
    } catch {
      // A lock dir gone read-only, or the file replaced: the lock goes stale, which is the safe way to fail.
    }
  }, everyMs)
  beat.unref()
  return () => {
    clearInterval(beat)
    release(file)
  }
}

function release(file: string): void {
  try {
    const holder = readHolder(file)
    if (holder?.pid === process.pid) fs.rmSync(file, { force: true })
  } catch {
    // Not a lock file of ours any more: nothing of ours to remove.
  }
}

/** Breaks the lock when its holder is gone or silent; true when it did (or someone else is doing so). */
function breakIfStale(file: string, staleMs: number, options: LockOptions, seen: Sightings): boolean {
  const holder = readHolder(file)
  if (holder === undefined) return true
  const state = staleness(holder, staleMs, seen)
  if (state === 'fresh') return false
  const breaker = `${file}.break`
  if (tryCreate(breaker) === undefined) {
    // Someone else is breaking it, or crashed while doing so: clear a breaker that old, or
    // one dated in the future (no breaking takes seconds, and such a time is not believed).
    const breakerHolder = readHolder(breaker)
    const now = Date.now()
    if (breakerHolder && (now - breakerHolder.at > 5_000 || isFromTheFuture(breakerHolder.at, now)))
      fs.rmSync(breaker, { force: true })
    return true
  }
  try {
    const again = readHolder(file)
    if (again && again.pid === holder.pid && again.at === holder.at) {
      fs.rmSync(file, { force: true })
      debug(
        'lock',
        () =>
          `broke ${file}: pid ${holder.pid} ${state === 'gone' ? 'is gone' : state === 'future' ? 'wrote a time from the future and no beat since' : `showed no life for ${Date.now() - holder.at} ms`}`,
      )
      if (state !== 'gone' && holder.pid > 0) options.onTakeOver?.(holder, state)
    }
  } finally {
    fs.rmSync(breaker, { force: true })
  }
  return true
}

/**
 * `gone`: the holder process no longer exists; `silent`: it has not shown life for staleMs;
 * `future`: the same, where its last beat was dated in the future (and so not believed).
 */
function staleness(holder: LockHolder, staleMs: number, seen: Sightings): 'fresh' | 'gone' | 'silent' | 'future' {
  const now = Date.now()
  const at = seen.believedAt(holder, now)
  if (now - at > staleMs) return at === holder.at ? 'silent' : 'future'
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

/**
 * The holder named in a lock file; undefined when there is none. A path there that is not
 * a regular file of ours (a directory, a FIFO, a symlink, another user's file) is an
 * error at once, naming it and how to clear it: waiting would never end.
 */
function readHolder(file: string): LockHolder | undefined {
  let text: string | undefined
  try {
    text = readPrivateFile(file, { label: 'The lock file' })
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new StoreUnavailableError(
      `The lock file ${file} cannot be read (${code}).`,
      `Remove it if no tokenctl is running: rm ${shellQuote(file)}`,
      { cause: error },
    )
  }
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as LockHolder
    if (typeof value.pid === 'number' && typeof value.at === 'number' && Number.isFinite(value.at)) return value
  } catch {
    // A holder that crashed between create and write leaves an empty file.
  }
  // Unreadable content: judge by the file's age alone.
  const stat = fs.lstatSync(file, { throwIfNoEntry: false })
  return stat ? { pid: -1, at: stat.mtimeMs } : undefined
}

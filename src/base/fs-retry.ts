import fs from 'node:fs'

/**
 * Windows refuses for a while what POSIX allows at once: `rename` onto a file another
 * program holds open (an editor, a backup or virus scanner, a second tokenctl reading it)
 * fails with EPERM, EACCES or EBUSY, and so does an exclusive create of a path whose file
 * is being deleted. Both pass as soon as the other program lets go, so they are tried
 * again for a bounded time (docs/design.md#windows).
 *
 * On every OS, not only on win32: the same code is what is tested (on Linux, under a
 * preload that makes `fs` answer as Windows does), and on Linux these errors on a rename
 * are rare and lasting (a read-only mount, an immutable file) and cost one bounded wait
 * before the same error.
 */

/** The errors Windows gives while another process holds a file open or is deleting it. */
const TRANSIENT = new Set(['EPERM', 'EACCES', 'EBUSY'])

/**
 * How long tokenctl keeps trying: 2 s. graceful-fs waits up to 60 s on win32, which suits a
 * build tool; tokenctl runs in a prompt loop and in git's credential helper, where a person
 * is waiting, and a scanner holds a file for milliseconds, not seconds.
 */
export const RETRY_MS = 2_000

/** The first pause between tries; doubled up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 10
const MAX_PAUSE_MS = 100

export function isTransientFsError(error: unknown): boolean {
  return TRANSIENT.has((error as NodeJS.ErrnoException | undefined)?.code ?? '')
}

/** The error thrown once RETRY_MS has passed: the last error, with how long it lasted. */
export class StillBusyError extends Error {
  readonly code: string | undefined
  constructor(
    readonly last: NodeJS.ErrnoException,
    readonly waitedMs: number,
  ) {
    super(last.message, { cause: last })
    this.code = last.code
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** A synchronous pause: writeFileAtomic is synchronous, and so are its callers. */
function pauseSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}

/**
 * `attempt()` until it returns, or throws an error that is not transient, or RETRY_MS
 * passes (then StillBusyError). Synchronous.
 */
function retryTransientSync<T>(attempt: () => T, retryMs = RETRY_MS): T {
  const started = Date.now()
  let pause = FIRST_PAUSE_MS
  for (;;) {
    try {
      return attempt()
    } catch (error) {
      if (!isTransientFsError(error)) throw error
      const waited = Date.now() - started
      if (waited >= retryMs) throw new StillBusyError(error as NodeJS.ErrnoException, waited)
      pauseSync(Math.min(pause, retryMs - waited))
      pause = Math.min(pause * 2, MAX_PAUSE_MS)
    }
  }
}

/** `fs.renameSync`, tried again while Windows says the target is held open. */
export function renameSyncRetrying(from: string, to: string, retryMs = RETRY_MS): void {
  retryTransientSync(() => fs.renameSync(from, to), retryMs)
}

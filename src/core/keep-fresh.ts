import { debug } from '../base/debug.js'
import { ExitCode, exitCodeOf } from '../base/errors.js'
import type { TokenResult } from './session.js'

/**
 * Keeping a token fresh for a program that outlives it (docs/design.md#long-running-programs):
 * the `exec --keep-fresh` files and `sink`. One loop, free of files and signals: it is told
 * how to get a token and what to do with a new one, and it decides only *when*.
 */

/**
 * How long before the token gets within --min-ttl the loop asks for a new one. A reader of
 * the files then never holds a token with less than --min-ttl left, and a `token` caller
 * with the same --min-ttl finds the new one already there instead of refreshing a second time.
 */
export const REFRESH_LEAD_MS = 1_000

/**
 * The longest the loop sleeps before it looks at the clock again. A timer counts the time
 * the machine was awake; a laptop that slept an hour would otherwise wake up holding an
 * expired token and a timer still half an hour from firing.
 */
export const MAX_SLEEP_MS = 60_000

/** Retries of a failed refresh: 1 s, 2 s, 4 s … up to 30 s, each ±20 % so that many sinks do not beat as one. */
export const FIRST_RETRY_MS = 1_000
export const MAX_RETRY_MS = 30_000

/** A server whose tokens live shorter than --min-ttl is still not asked more often than this. */
export const MIN_INTERVAL_MS = 1_000

/** What the loop has to say to a person. */
export type KeepFreshReport =
  /** A refresh that retrying will not mend by itself (a login is needed, the credentials were refused). */
  | { kind: 'failing'; error: unknown; expiresAt: number }
  /** The token handed out has expired and no new one could be had: readers now get an expired token. */
  | { kind: 'expired'; error: unknown; expiresAt: number }
  /** A fresh token again, after a report above. */
  | { kind: 'recovered'; expiresAt: number }
  /** The server grants tokens shorter than --min-ttl: they are renewed at half their life instead. */
  | { kind: 'short-lived'; lifetimeMs: number }

export interface KeepFreshOptions {
  /** A token that outlives `minTtlMs`: the session's getToken, under the env's lock. */
  getToken: (minTtlMs: number) => Promise<TokenResult>
  minTtlMs: number
  /** The token already handed out; the loop keeps it fresh from there. */
  initial: TokenResult
  /** Hand out a new token (write the files, signal the child). A failure counts as a failed refresh. */
  onToken: (token: TokenResult) => void | Promise<void>
  onReport: (report: KeepFreshReport) => void
  /**
   * Stop once the token handed out has expired and a refresh still fails (`sink`: a
   * supervisor restarts it, or a person sees it stopped). Else it keeps trying (`exec`: the
   * child keeps running, and a refresh may work again).
   */
  stopWhenExpired?: boolean
  now?: () => number
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  random?: () => number
}

/** How the loop ended: stopped from outside, or given up (stopWhenExpired) with the last failure. */
export interface KeepFreshEnd {
  failure?: unknown
}

/**
 * Errors that a later try can mend by itself: the server or network (5), the store (6: a
 * keychain that hung once), a bug-free hiccup of the file system. A login that is needed
 * (3) or credentials refused (4) need a person: they are reported at once, and still
 * tried again, since a person may log in meanwhile in another terminal.
 */
function needsPerson(error: unknown): boolean {
  const code = exitCodeOf(error)
  return code === ExitCode.loginRequired || code === ExitCode.rejected || code === ExitCode.usage
}

export class TokenKeeper {
  private readonly now: () => number
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly random: () => number
  private readonly stopping = new AbortController()
  private running?: Promise<KeepFreshEnd>
  private current: TokenResult

  constructor(private readonly options: KeepFreshOptions) {
    this.now = options.now ?? Date.now
    this.sleep = options.sleep ?? abortableSleep
    this.random = options.random ?? Math.random
    this.current = options.initial
  }

  /** The token handed out last. */
  get token(): TokenResult {
    return this.current
  }

  /** Start the loop; the promise settles when it stops (`stop()`) or gives up. */
  start(): Promise<KeepFreshEnd> {
    this.running ??= this.loop()
    return this.running
  }

  /**
   * Stop, after the refresh in flight (if any) has settled: it may be saving a rotated
   * refresh token, which must not be lost for the sake of exiting a moment sooner.
   */
  async stop(): Promise<void> {
    this.stopping.abort()
    await this.running
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted
  }

  private async loop(): Promise<KeepFreshEnd> {
    const { minTtlMs } = this.options
    const wantedTtl = minTtlMs + REFRESH_LEAD_MS
    let failures = 0
    let reported: KeepFreshReport['kind'] | undefined
    let warnedShort = false
    let retryAt: number | undefined
    let dueAt = this.dueAt(this.current)
    while (!this.stopped) {
      const wait = (retryAt ?? dueAt) - this.now()
      if (wait > 0) {
        await this.sleep(Math.min(wait, MAX_SLEEP_MS), this.stopping.signal)
        continue
      }
      try {
        const token = await this.options.getToken(wantedTtl)
        if (this.stopped) break
        if (token.accessToken !== this.current.accessToken) await this.options.onToken(token)
        this.current = token
        dueAt = this.dueAt(token)
        debug(
          'keep-fresh',
          () => `new token handed out, ${Math.round((token.accessExpiresAt - this.now()) / 1000)} s left`,
        )
        const lifetime = token.accessExpiresAt - this.now()
        if (token.source !== 'cache' && lifetime <= wantedTtl && !warnedShort) {
          warnedShort = true
          this.options.onReport({ kind: 'short-lived', lifetimeMs: lifetime })
        }
        if (reported === 'failing' || reported === 'expired')
          this.options.onReport({ kind: 'recovered', expiresAt: token.accessExpiresAt })
        failures = 0
        reported = undefined
        retryAt = undefined
      } catch (error) {
        if (this.stopped) break
        failures += 1
        const expiresAt = this.current.accessExpiresAt
        const expired = this.now() >= expiresAt
        debug('keep-fresh', () => `refresh failed (try ${failures}), exit ${exitCodeOf(error)}`)
        if (expired) {
          if (reported !== 'expired') this.options.onReport({ kind: 'expired', error, expiresAt })
          reported = 'expired'
          if (this.options.stopWhenExpired) return { failure: error }
        } else if (needsPerson(error) && reported === undefined) {
          this.options.onReport({ kind: 'failing', error, expiresAt })
          reported = 'failing'
        }
        const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1)) * (0.8 + 0.4 * this.random())
        // The last try comes as the token expires, so that an outage is reported when it starts to matter.
        retryAt = expired ? this.now() + backoff : Math.min(this.now() + backoff, expiresAt)
      }
    }
    return {}
  }

  /**
   * When `token` is due for renewal: before it gets within --min-ttl (and
   * the lead) of its expiry. A new token that lives shorter than that (the server shortened
   * its tokens since the start) is renewed at half its remaining life, not at once and
   * again and again.
   */
  private dueAt(token: TokenResult): number {
    const due = token.accessExpiresAt - this.options.minTtlMs - REFRESH_LEAD_MS
    const now = this.now()
    // The first token was handed out before the loop began; a cached one was not made now: both are due when they are due.
    if (due > now || token === this.options.initial || token.source === 'cache') return due
    return now + Math.max(MIN_INTERVAL_MS, (token.accessExpiresAt - now) / 2)
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

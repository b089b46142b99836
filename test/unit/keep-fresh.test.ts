/**
 * When TokenKeeper renews, retries and speaks (docs/design.md#long-running-programs), driven
 * in-process on a made-up clock: `sleep` moves the clock on and returns at once, so minutes of
 * a keeper's life run in milliseconds, and every getToken call is seen with the time it was
 * made at. Past the simulation's end `sleep` parks until stop() aborts it.
 */
import {
  CredentialsRejectedError,
  exitCodeOf,
  LoginRequiredError,
  ServerError,
  UsageError,
} from '../../src/base/errors.js'
import {
  type KeepFreshEnd,
  type KeepFreshOptions,
  type KeepFreshReport,
  MAX_RETRY_MS,
  MAX_SLEEP_MS,
  MIN_INTERVAL_MS,
  REFRESH_LEAD_MS,
  TokenKeeper,
} from '../../src/core/keep-fresh.js'
import type { TokenResult } from '../../src/core/session.js'

/**
 * Above this many getToken calls (or sleeps) the fakes stop answering: a loop without pause
 * then ends the test instead of hanging it (fakes that answer at once never let a timer fire).
 */
const CALL_LIMIT = 1_000
const SLEEP_LIMIT = 10_000

interface HarnessOptions {
  /** How long each token getToken mints lives; a function of the call's time for a server that changes its mind. */
  lifetimeMs?: number | ((now: number) => number)
  /** The error the n-th call (from 1) fails with, if any. */
  fail?: (call: number, now: number) => Error | undefined
  /** The token string the n-th call mints (t1, t2 … by default). */
  name?: (call: number) => string
  /** Extra time that passes during the n-th sleep (from 1): a laptop put to sleep. */
  jump?: (sleep: number) => number
  /** onToken fails with this, when it returns an error. */
  onTokenFails?: (token: TokenResult, now: number) => Error | undefined
  /** The simulated time at which the clock stops: the next sleep past it parks until stop(). */
  until: number
  minTtlMs?: number
  initialLifetimeMs?: number
  stopWhenExpired?: boolean
  random?: number
}

class Harness {
  now = 0
  readonly calls: { at: number; minTtlMs: number }[] = []
  readonly sleeps: { at: number; ms: number }[] = []
  readonly handed: { at: number; token: TokenResult }[] = []
  readonly reports: { at: number; report: KeepFreshReport }[] = []
  readonly keeper: TokenKeeper
  readonly initial: TokenResult
  end?: { at: number; end: KeepFreshEnd }
  private markParked!: () => void
  /** Settles once the loop sleeps past `until`, or stops answering getToken calls. */
  readonly parked = new Promise<void>((resolve) => (this.markParked = resolve))
  private releaseCall?: () => void

  constructor(private readonly options: HarnessOptions) {
    this.initial = { accessToken: 't0', accessExpiresAt: options.initialLifetimeMs ?? 20_000, source: 'refresh' }
    const keeperOptions: KeepFreshOptions = {
      minTtlMs: options.minTtlMs ?? 5_000,
      initial: this.initial,
      stopWhenExpired: options.stopWhenExpired,
      getToken: (minTtlMs) => this.getToken(minTtlMs),
      onToken: (token) => {
        const error = options.onTokenFails?.(token, this.now)
        if (error) throw error
        this.handed.push({ at: this.now, token })
      },
      onReport: (report) => this.reports.push({ at: this.now, report }),
      now: () => this.now,
      sleep: (ms, signal) => this.sleep(ms, signal),
      random: () => options.random ?? 0.5,
    }
    this.keeper = new TokenKeeper(keeperOptions)
  }

  private getToken(minTtlMs: number): Promise<TokenResult> {
    this.calls.push({ at: this.now, minTtlMs })
    const call = this.calls.length
    if (call > CALL_LIMIT) {
      this.markParked()
      return new Promise((resolve) => (this.releaseCall = () => resolve(this.initial)))
    }
    const error = this.options.fail?.(call, this.now)
    if (error) return Promise.reject(error)
    const { lifetimeMs = 20_000 } = this.options
    const lifetime = typeof lifetimeMs === 'number' ? lifetimeMs : lifetimeMs(this.now)
    return Promise.resolve({
      accessToken: this.options.name?.(call) ?? `t${call}`,
      accessExpiresAt: this.now + lifetime,
      source: 'refresh',
    })
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push({ at: this.now, ms })
    if (signal.aborted) return Promise.resolve()
    if (this.now + ms > this.options.until || this.sleeps.length > SLEEP_LIMIT) {
      this.now = Math.max(this.now, Math.min(this.now + ms, this.options.until))
      this.markParked()
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    }
    this.now += ms + (this.options.jump?.(this.sleeps.length) ?? 0)
    return Promise.resolve()
  }

  /** Run the keeper until the clock reaches `until` (or the loop gives up), then stop it. */
  async run(): Promise<this> {
    const started = this.keeper.start().then((end) => (this.end = { at: this.now, end }))
    await Promise.race([this.parked, started])
    const stopping = this.keeper.stop()
    this.releaseCall?.()
    await stopping
    await started
    return this
  }

  callTimes(): number[] {
    return this.calls.map(({ at }) => at)
  }

  reportKinds(): string[] {
    return this.reports.map(({ report }) => report.kind)
  }
}

const simulate = (options: HarnessOptions) => new Harness(options).run()

/** A promise's state without waiting for it: whatever is queued to settle it runs first. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('renewal on time', () => {
  test('renews exactly when the token gets within --min-ttl and the lead of expiry, asking for --min-ttl plus the lead', async () => {
    // 20-s tokens, 5-s --min-ttl: each is renewed 6 s before its expiry, i.e. 14 s after the last renewal.
    const h = await simulate({ lifetimeMs: 20_000, minTtlMs: 5_000, until: 90_000 })
    expect(h.callTimes()).toEqual([14_000, 28_000, 42_000, 56_000, 70_000, 84_000])
    expect(h.calls.every(({ minTtlMs }) => minTtlMs === 5_000 + REFRESH_LEAD_MS)).toBe(true)
    // Each renewal is at the expiry of the token handed out before it, less --min-ttl and the lead.
    const expiries = [h.initial, ...h.handed.map(({ token }) => token)].map((token) => token.accessExpiresAt)
    expect(h.callTimes()).toEqual(expiries.slice(0, -1).map((at) => at - 5_000 - REFRESH_LEAD_MS))
    expect(h.handed.map(({ token }) => token.accessToken)).toEqual(['t1', 't2', 't3', 't4', 't5', 't6'])
    expect(h.keeper.token.accessToken).toBe('t6')
    expect(h.reports).toEqual([])
    expect(h.end).toEqual({ at: 90_000, end: {} })
  })

  test('onToken runs only for a token that differs from the one handed out; the keeper still follows the new expiry', async () => {
    // Calls 1 and 2 get the same string (t1), 3 and 4 the same (t2)… as a server that hands out its token until near its end.
    const h = await simulate({ name: (call) => `t${Math.ceil(call / 2)}`, until: 60_000 })
    expect(h.callTimes()).toEqual([14_000, 28_000, 42_000, 56_000])
    expect(h.handed).toEqual([
      { at: 14_000, token: { accessToken: 't1', accessExpiresAt: 34_000, source: 'refresh' } },
      { at: 42_000, token: { accessToken: 't2', accessExpiresAt: 62_000, source: 'refresh' } },
    ])
    expect(h.keeper.token).toEqual({ accessToken: 't2', accessExpiresAt: 76_000, source: 'refresh' })
  })

  test('never sleeps longer than MAX_SLEEP_MS at a time: a 30-min token is waited for in sleeps of at most 60 s', async () => {
    const h = await simulate({ initialLifetimeMs: 30 * 60_000, lifetimeMs: 30 * 60_000, until: 31 * 60_000 })
    const due = 30 * 60_000 - 5_000 - REFRESH_LEAD_MS
    expect(h.callTimes()).toEqual([due])
    const before = h.sleeps.filter(({ at }) => at < due)
    expect(before.length).toBe(Math.ceil(due / MAX_SLEEP_MS))
    expect(Math.max(...h.sleeps.map(({ ms }) => ms))).toBe(MAX_SLEEP_MS)
    expect(before.reduce((sum, { ms }) => sum + ms, 0)).toBe(due)
  })

  test('a clock that jumped past the due time (a laptop asleep) renews at the next wake-up, not when a timer would have ended', async () => {
    // The third sleep lasts an hour longer: the machine was suspended.
    const jumpedTo = 3 * MAX_SLEEP_MS + 60 * 60_000
    const h = await simulate({
      initialLifetimeMs: 30 * 60_000,
      lifetimeMs: 30 * 60_000,
      jump: (sleep) => (sleep === 3 ? 60 * 60_000 : 0),
      until: jumpedTo + 60_000,
    })
    expect(h.sleeps.slice(0, 3).map(({ ms }) => ms)).toEqual([MAX_SLEEP_MS, MAX_SLEEP_MS, MAX_SLEEP_MS])
    expect(h.callTimes()).toEqual([jumpedTo])
    expect(h.sleeps[3]!.at).toBe(jumpedTo)
    // The token had expired while asleep, but the refresh worked: nothing to say.
    expect(h.reports).toEqual([])
    expect(h.handed.map(({ at }) => at)).toEqual([jumpedTo])
  })
})

describe('failures', () => {
  test('a transient failure (exit 5) is retried after 1, 2, 4 … s, said nothing of while the token is valid, tried last at expiry, reported once as expired, then as recovered', async () => {
    const outage = new ServerError('The server answered 503.')
    const recoveredAt = 150_000
    const h = await simulate({ fail: (_call, now) => (now < recoveredAt ? outage : undefined), until: 170_000 })
    // Due at 14 s; 1 s, 2 s later; then 4 s would be past the expiry (20 s), so the last try is at it.
    // After it the backoff goes on: 8 s, 16 s, then 30 s (not 32 s) each time.
    expect(h.callTimes()).toEqual([14_000, 15_000, 17_000, 20_000, 28_000, 44_000, 74_000, 104_000, 134_000, 164_000])
    expect(h.calls.slice(5).map(({ at }, i) => at - h.calls[4 + i]!.at)).toEqual([
      16_000, 30_000, 30_000, 30_000, 30_000,
    ])
    expect(MAX_RETRY_MS).toBe(30_000)
    expect(h.reports).toEqual([
      { at: 20_000, report: { kind: 'expired', error: outage, expiresAt: 20_000 } },
      { at: 164_000, report: { kind: 'recovered', expiresAt: 184_000 } },
    ])
    expect(exitCodeOf((h.reports[0]!.report as { error: unknown }).error)).toBe(5)
    expect(h.handed).toEqual([
      { at: 164_000, token: { accessToken: 't10', accessExpiresAt: 184_000, source: 'refresh' } },
    ])
    // Back to the usual rhythm after the recovery: the next renewal 6 s before the new token's expiry.
    expect(h.sleeps.at(-1)).toEqual({ at: 164_000, ms: 14_000 })
  })

  test.each([
    [0, 0.8],
    [0.25, 0.9],
    [0.75, 1.1],
    [0.999_999, 1.2],
  ])('the backoff is spread by ±20 %% (random %s: ×%s), and its cap too', async (random, factor) => {
    const h = await simulate({
      fail: () => new ServerError('Timed out.'),
      // Due at 4 min, valid until 20 min: room for the backoff to reach its cap before the expiry.
      initialLifetimeMs: 20 * 60_000,
      minTtlMs: 15 * 60_000,
      until: 10 * 60_000,
      random,
    })
    const gaps = h.calls.slice(1).map(({ at }, i) => at - h.calls[i]!.at)
    const expected = [1, 2, 4, 8, 16, 30, 30, 30].map((s) => s * 1_000 * factor)
    for (const [i, want] of expected.entries()) expect(gaps[i]).toBeCloseTo(want, 0)
    expect(Math.max(...gaps)).toBeLessThanOrEqual(MAX_RETRY_MS * 1.2)
    // Still before the expiry: nothing said, whatever the number of failures.
    expect(h.reports).toEqual([])
  })

  test.each([
    ['login required (exit 3)', () => new LoginRequiredError('No login for "prod".', 'Run: tokenctl login')],
    ['credentials rejected (exit 4)', () => new CredentialsRejectedError('The refresh token was refused.')],
  ])(
    '%s: one "failing" report at once, retried all the same, "recovered" when a person has mended it',
    async (_name, make) => {
      const error = make()
      const h = await simulate({ fail: (_call, now) => (now < 17_500 ? error : undefined), until: 30_000 })
      expect(h.callTimes()).toEqual([14_000, 15_000, 17_000, 20_000])
      expect(h.reports).toEqual([
        { at: 14_000, report: { kind: 'failing', error, expiresAt: 20_000 } },
        { at: 20_000, report: { kind: 'recovered', expiresAt: 40_000 } },
      ])
    },
  )

  test('a refresh that needs a person and goes on failing past the expiry is reported once more, as expired', async () => {
    const error = new LoginRequiredError('No login for "prod".')
    const h = await simulate({ fail: () => error, until: 120_000 })
    expect(h.reportKinds()).toEqual(['failing', 'expired'])
    expect(h.reports[1]).toEqual({ at: 20_000, report: { kind: 'expired', error, expiresAt: 20_000 } })
    expect(h.calls.length).toBeGreaterThan(6)
  })

  test('stopWhenExpired: start() resolves with the failure at the try at expiry, and asks no more', async () => {
    const outage = new ServerError('Unreachable.')
    const h = await simulate({ fail: () => outage, stopWhenExpired: true, until: 600_000 })
    expect(h.end).toEqual({ at: 20_000, end: { failure: outage } })
    expect(h.callTimes()).toEqual([14_000, 15_000, 17_000, 20_000])
    expect(h.reports).toEqual([{ at: 20_000, report: { kind: 'expired', error: outage, expiresAt: 20_000 } }])
  })

  test('without stopWhenExpired the loop keeps trying past the expiry until stopped, and then ends without a failure', async () => {
    const h = await simulate({ fail: () => new ServerError('Unreachable.'), until: 600_000 })
    expect(h.end).toEqual({ at: 600_000, end: {} })
    expect(h.callTimes().filter((at) => at > 20_000).length).toBeGreaterThan(10)
    expect(h.reportKinds()).toEqual(['expired'])
  })

  test('stopWhenExpired still gives a failing refresh its tries while the token is valid', async () => {
    const h = await simulate({
      fail: (_call, now) => (now < 17_000 ? new ServerError('503') : undefined),
      stopWhenExpired: true,
      until: 30_000,
    })
    expect(h.end).toEqual({ at: 30_000, end: {} })
    expect(h.callTimes()).toEqual([14_000, 15_000, 17_000])
    expect(h.reports).toEqual([])
  })

  test('onToken failing (the file could not be written) counts as a failed refresh: retried, reported, and the token is not taken as handed out', async () => {
    const diskFull = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    const h = await simulate({ onTokenFails: (_token, now) => (now < 40_000 ? diskFull : undefined), until: 45_000 })
    expect(h.callTimes()).toEqual([14_000, 15_000, 17_000, 20_000, 28_000, 44_000])
    expect(h.reports).toEqual([
      { at: 20_000, report: { kind: 'expired', error: diskFull, expiresAt: 20_000 } },
      { at: 44_000, report: { kind: 'recovered', expiresAt: 64_000 } },
    ])
    expect(h.handed.map(({ at, token }) => [at, token.accessToken])).toEqual([[44_000, 't6']])
    expect(h.keeper.token.accessToken).toBe('t6')
  })

  test('onToken refusing the target (exit 2, a sink file swapped for a symlink) is reported at once, as a login failure is', async () => {
    const refused = new UsageError(
      '/srv/token is a symbolic link; tokenctl writes only to a file it can replace in place.',
    )
    const h = await simulate({ onTokenFails: (_token, now) => (now < 16_000 ? refused : undefined), until: 20_000 })
    expect(h.reports).toEqual([
      { at: 14_000, report: { kind: 'failing', error: refused, expiresAt: 20_000 } },
      { at: 17_000, report: { kind: 'recovered', expiresAt: 37_000 } },
    ])
    expect(h.keeper.token.accessToken).toBe('t3')
  })
})

describe('stop()', () => {
  test('waits for the refresh in flight to settle, and hands out nothing after', async () => {
    let answer!: (token: TokenResult) => void
    let calls = 0
    const handed: TokenResult[] = []
    let now = 0
    const keeper = new TokenKeeper({
      minTtlMs: 5_000,
      initial: { accessToken: 't0', accessExpiresAt: 20_000, source: 'refresh' },
      getToken: () => {
        calls += 1
        return new Promise((resolve) => (answer = resolve))
      },
      onToken: (token) => void handed.push(token),
      onReport: () => {},
      now: () => now,
      sleep: (ms) => {
        now += ms
        return Promise.resolve()
      },
    })
    const ended = keeper.start()
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(1)
    const stopping = keeper.stop()
    expect(await settled(stopping)).toBe(false)
    expect(await settled(ended)).toBe(false)
    now = 15_000
    answer({ accessToken: 't1', accessExpiresAt: 35_000, source: 'refresh' })
    await stopping
    expect(await ended).toEqual({})
    expect(handed).toEqual([])
    expect(calls).toBe(1)
  })

  test('a refresh in flight that fails as it is stopped is neither reported nor retried', async () => {
    let fail!: (error: Error) => void
    let calls = 0
    let now = 0
    const reports: KeepFreshReport[] = []
    const keeper = new TokenKeeper({
      minTtlMs: 5_000,
      initial: { accessToken: 't0', accessExpiresAt: 20_000, source: 'refresh' },
      getToken: () => {
        calls += 1
        return new Promise((_resolve, reject) => (fail = reject))
      },
      onToken: () => {},
      onReport: (report) => void reports.push(report),
      now: () => now,
      sleep: (ms) => {
        now += ms
        return Promise.resolve()
      },
    })
    const ended = keeper.start()
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(1)
    const stopping = keeper.stop()
    // Past the expiry, with a login needed: either would be reported, were the loop not stopping.
    now = 30_000
    fail(new LoginRequiredError('No login.'))
    await stopping
    expect(await ended).toEqual({})
    expect(reports).toEqual([])
    expect(calls).toBe(1)
  })

  test('while sleeping (the real abortable sleep, an hour to go): stop() ends the sleep and the loop at once', async () => {
    let calls = 0
    const keeper = new TokenKeeper({
      minTtlMs: 5_000,
      initial: { accessToken: 't0', accessExpiresAt: Date.now() + 60 * 60_000, source: 'refresh' },
      getToken: () => {
        calls += 1
        return Promise.reject(new Error('not asked'))
      },
      onToken: () => {},
      onReport: () => {},
    })
    const ended = keeper.start()
    await new Promise((resolve) => setImmediate(resolve))
    // Were the abort not heard, this would wait out MAX_SLEEP_MS, past this test's timeout.
    await keeper.stop()
    expect(await ended).toEqual({})
    expect(calls).toBe(0)
  }, 10_000)

  test('while parked in a sleep of the fake clock: stop() resolves', async () => {
    const h = new Harness({ until: 5_000 })
    const ended = h.keeper.start()
    await h.parked
    await h.keeper.stop()
    expect(await ended).toEqual({})
    expect(h.calls).toEqual([])
  })
})

describe('a server that grants shorter tokens than --min-ttl', () => {
  test('one "short-lived" report; each token renewed at half its life; no loop without pause', async () => {
    // From the first renewal on the server grants 4-s tokens, shorter than --min-ttl (5 s) plus the lead.
    const h = await simulate({ lifetimeMs: 4_000, until: 74_000 })
    expect(h.reports).toEqual([{ at: 14_000, report: { kind: 'short-lived', lifetimeMs: 4_000 } }])
    const gaps = h.calls.slice(1).map(({ at }, i) => at - h.calls[i]!.at)
    expect(new Set(gaps)).toEqual(new Set([2_000]))
    // 60 s at one renewal per 2 s.
    expect(h.calls.length).toBe(31)
    expect(h.handed.length).toBe(31)
  })

  test('a token of a few milliseconds is still renewed no more often than MIN_INTERVAL_MS', async () => {
    const h = await simulate({ lifetimeMs: 10, until: 74_000 })
    expect(h.reportKinds()).toEqual(['short-lived'])
    const gaps = h.calls.slice(1).map(({ at }, i) => at - h.calls[i]!.at)
    expect(Math.min(...gaps)).toBe(MIN_INTERVAL_MS)
    expect(h.calls.length).toBeLessThanOrEqual(61)
  })

  test('a token granted already expired is renewed after MIN_INTERVAL_MS, not at once again', async () => {
    const h = await simulate({ lifetimeMs: 0, until: 74_000 })
    expect(h.calls.length).toBeLessThanOrEqual(61)
    expect(h.calls.length).toBeLessThan(CALL_LIMIT)
  })

  test('the server granting long tokens again: the renewals go back to the usual rhythm, with no second report', async () => {
    const h = await simulate({ lifetimeMs: (now) => (now < 30_000 ? 4_000 : 20_000), until: 90_000 })
    expect(h.reportKinds()).toEqual(['short-lived'])
    expect(h.callTimes()).toEqual([
      14_000, 16_000, 18_000, 20_000, 22_000, 24_000, 26_000, 28_000, 30_000, 44_000, 58_000, 72_000, 86_000,
    ])
  })
})

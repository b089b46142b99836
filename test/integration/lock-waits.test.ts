/**
 * Every wait on a lock ends (src/base/lock.ts): a break marker or a heartbeat dated in the
 * future is not believed, and a holder that is alive and beating but never lets go ends
 * the wait with an error naming it, after the maximum wait.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { StoreUnavailableError } from '../../src/base/errors.js'
import { acquireLock, maxLockWaitMs, type TakeOverReason } from '../../src/base/lock.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-lock-waits-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const STALE_MS = 600
const HOUR = 3_600_000

/**
 * The wait's outcome, or 'still waiting' after `ms`: a test of an endless wait must end
 * itself. The race alone would leave a losing wait polling after the test, so every wait
 * raced here also has a maxWaitMs (MAX_WAIT_MS) well under `ms`: it ends by itself.
 */
function within<T>(wait: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), ms)
  })
  return Promise.race([wait, timeout]).finally(() => clearTimeout(timer))
}

/** Far above STALE_MS (a take-over comes first), far below within()'s bound. */
const MAX_WAIT_MS = 5_000

test('a break marker dated in the future is cleared, and a silent holder is taken over', async () => {
  const file = path.join(dir, 'prod.lock')
  // A holder that is alive (our parent) but silent for ten stale times, and a breaker "from the future".
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, at: Date.now() - 10 * STALE_MS }), { mode: 0o600 })
  fs.writeFileSync(`${file}.break`, JSON.stringify({ pid: process.ppid, at: Date.now() + HOUR }), { mode: 0o600 })
  const release = await within(acquireLock(dir, 'prod', { staleMs: STALE_MS, maxWaitMs: MAX_WAIT_MS }), 10_000)
  expect(release).toBeInstanceOf(Function)
  ;(release as () => void)()
  expect(fs.readdirSync(dir)).toEqual([])
})

test('a heartbeat dated in the future is no sign of life: the holder is taken over after the stale time, and the reason told', async () => {
  const file = path.join(dir, 'prod.lock')
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, at: Date.now() + HOUR }), { mode: 0o600 })
  const taken: Array<[number, TakeOverReason]> = []
  const started = Date.now()
  const release = await within(
    acquireLock(dir, 'prod', {
      staleMs: STALE_MS,
      maxWaitMs: MAX_WAIT_MS,
      onTakeOver: (holder, why) => taken.push([holder.pid, why]),
    }),
    10_000,
  )
  expect(release).toBeInstanceOf(Function)
  // Not at once: a live holder whose clock was set back gets a beat's time to write a believable one.
  expect(Date.now() - started).toBeGreaterThanOrEqual(STALE_MS)
  expect(taken).toEqual([[process.ppid, 'future']])
  ;(release as () => void)()
})

test('a live holder that keeps beating past the maximum wait: the waiter gives up with an error naming its pid and the lock', async () => {
  const holder = await acquireLock(dir, 'prod', { staleMs: STALE_MS })
  try {
    const started = Date.now()
    const outcome = await within(
      acquireLock(dir, 'prod', { staleMs: STALE_MS, maxWaitMs: 1_500, label: 'the lock of "prod"' }).then(
        () => 'got it',
        (error: unknown) => error,
      ),
      10_000,
    )
    expect(outcome).toBeInstanceOf(StoreUnavailableError)
    const error = outcome as StoreUnavailableError
    const file = path.join(dir, 'prod.lock')
    expect(error.message).toMatch(
      new RegExp(
        `^Gave up waiting for the lock of "prod" \\(${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\): pid ${process.pid} has held it for \\d+ s and is still alive and working\\.$`,
      ),
    )
    expect(error.fix).toBe(
      `Wait for it to finish and try again; if it is stuck, end it (kill ${process.pid}) and tokenctl takes the lock over.`,
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500)
  } finally {
    holder()
  }
})

test('the maximum wait is 2 minutes, longer when TOKENCTL_TIMEOUT is', () => {
  expect(maxLockWaitMs({})).toBe(120_000)
  expect(maxLockWaitMs({ TOKENCTL_TIMEOUT: '20' })).toBe(120_000)
  expect(maxLockWaitMs({ TOKENCTL_TIMEOUT: '90' })).toBe(360_000)
  // Not a number: http.ts says so; the lock waits the default.
  expect(maxLockWaitMs({ TOKENCTL_TIMEOUT: 'soon' })).toBe(120_000)
})

test('something other than a lock file at the lock path ends the wait at once, naming it and how to clear it', async () => {
  const file = path.join(dir, 'prod.lock')
  fs.mkdirSync(file)
  const outcome = await within(
    acquireLock(dir, 'prod', { maxWaitMs: MAX_WAIT_MS }).catch((error: unknown) => error),
    10_000,
  )
  expect(outcome).toBeInstanceOf(StoreUnavailableError)
  expect((outcome as StoreUnavailableError).message).toBe(
    `The lock file ${file} is a directory, not a regular file, so tokenctl will not read it.`,
  )
  expect((outcome as StoreUnavailableError).fix).toBe(`Remove it: rm -r '${file}'`)
})

/**
 * The inter-process lock's heartbeat (src/base/lock.ts): a holder that is alive and busy
 * for longer than the stale time is not taken for dead, and one that stops beating is.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { acquireLock } from '../../src/base/lock.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-lock-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const STALE_MS = 600
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('a live holder busy for five times the stale time keeps its lock: the waiter gets it only after the release', async () => {
  const release = await acquireLock(dir, 'prod', { staleMs: STALE_MS })
  let tookOver = false
  const waiting = acquireLock(dir, 'prod', { staleMs: STALE_MS, onTakeOver: () => (tookOver = true) }).then((next) => ({
    next,
    at: Date.now(),
  }))
  await sleep(STALE_MS * 5)
  const releasedAt = Date.now()
  release()
  const { next, at } = await waiting
  expect(at).toBeGreaterThanOrEqual(releasedAt)
  expect(tookOver).toBe(false)
  next()
})

test('a holder whose heartbeat stopped is taken over after the stale time, and the waiter is told', async () => {
  const file = path.join(dir, 'prod.lock')
  // What a frozen holder leaves: its own pid (alive), a time that no longer moves.
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, at: Date.now() }), { mode: 0o600 })
  const taken: number[] = []
  const started = Date.now()
  const release = await acquireLock(dir, 'prod', { staleMs: STALE_MS, onTakeOver: (holder) => taken.push(holder.pid) })
  expect(Date.now() - started).toBeGreaterThanOrEqual(STALE_MS)
  expect(taken).toEqual([process.ppid])
  release()
  expect(fs.existsSync(file)).toBe(false)
})

test('the long-wait notice names the holder: a lock file caught empty (mid-write) is not "pid -1"', async () => {
  const file = path.join(dir, 'prod.lock')
  // What a waiter sees between a holder's create and its write, or during its heartbeat's rewrite.
  fs.writeFileSync(file, '', { mode: 0o600 })
  const told: number[] = []
  const waiting = acquireLock(dir, 'prod', { onLongWait: (holder) => told.push(holder.pid) })
  await sleep(2_500)
  // Past the notice time, but nobody known to name yet.
  expect(told).toEqual([])
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, at: Date.now() }), { mode: 0o600 })
  await sleep(300)
  expect(told).toEqual([process.ppid])
  fs.rmSync(file)
  ;(await waiting)()
})

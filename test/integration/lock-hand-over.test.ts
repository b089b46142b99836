/**
 * The fast path of bin/run.js waits for an env's lock itself and, when the token is still
 * stale, hands the lock to the full CLI in the same process (lock.ts handOverLock). Run
 * here in one process, as bin/run.js does, against the real test server and file store.
 */
import fs from 'node:fs'
import path from 'node:path'

import { openContext } from '../../src/core/context.js'
import { acquireLock, handedLockAskedAt } from '../../src/base/lock.js'
import { lockDir } from '../../src/base/paths.js'
import { fastPath } from '../../src/fast-path.js'
import { type ApiServer, startApiServer } from '../support/api-server.js'
import { Sandbox } from '../support/cli.js'

const REFRESH = '/auth/token/refresh'
const HOUR = 3_600_000

let server: ApiServer
let sandbox: Sandbox

beforeEach(async () => {
  server = await startApiServer()
  sandbox = new Sandbox()
  expect(await sandbox.run(['env', 'add', 'prod', '--url', server.url])).toMatchObject({ code: 0 })
  expect(
    await sandbox.run(['login', '--username', 'alice', '--password-stdin'], {
      env: { TOKENCTL_STORE: 'file' },
      input: 'wonderland\n',
    }),
  ).toMatchObject({ code: 0 })
})
afterEach(async () => {
  await server.close()
  sandbox.cleanup()
})

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')

function rewrite(change: (record: Record<string, unknown>) => void): Record<string, unknown> {
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
  change(data.envs.prod)
  fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
  return data.envs.prod
}

test('a token another process got while this one waited in the fast path is not refreshed again, even when it is short of --min-ttl', async () => {
  const environ = sandbox.env({ TOKENCTL_STORE: 'file' })
  rewrite((record) => (record.accessExpiresAt = Date.now() - 60_000))
  const before = server.count(REFRESH)

  // Another process holds the lock, refreshing.
  const releaseOther = await acquireLock(lockDir(environ), 'prod')
  const served = fastPath(['token', '--min-ttl', '2h'], environ)
  // It saves a token (the server grants 30 minutes, short of 2 h) and lets go.
  const planted = rewrite((record) => {
    record.accessToken = 'got-by-the-other-process'
    record.accessExpiresAt = Date.now() + HOUR / 2
    record.obtainedAt = Date.now()
  })
  releaseOther()

  // Still short of 2 h: the fast path hands its lock, and when it first asked, to the full path.
  expect(await served).toBe(false)
  expect(handedLockAskedAt(lockDir(environ), 'prod')).toBeLessThanOrEqual(planted.obtainedAt as number)

  const warnings: string[] = []
  const context = await openContext({ environ, warn: (message) => warnings.push(message), userAgent: 'test' })
  const token = await context.session.getToken({ minTtlMs: 2 * HOUR })
  // The work was done after this process first asked: it counts, as it would for a process
  // that had waited on the lock in the full path.
  expect(token).toMatchObject({ accessToken: 'got-by-the-other-process', source: 'cache' })
  expect(server.count(REFRESH)).toBe(before)
  // The handed lock was taken and then let go.
  expect(handedLockAskedAt(lockDir(environ), 'prod')).toBeUndefined()
  expect(fs.existsSync(path.join(lockDir(environ), 'prod.lock'))).toBe(false)
  expect(warnings).toEqual([])
})

test('a token still stale after the wait: the full path in the same process refreshes with the lock it was handed', async () => {
  const environ = sandbox.env({ TOKENCTL_STORE: 'file' })
  rewrite((record) => (record.accessExpiresAt = Date.now() - 60_000))

  expect(await fastPath(['token'], environ)).toBe(false)
  const lock = path.join(lockDir(environ), 'prod.lock')
  // Held for the full path: by this process, and no one else can take it meanwhile.
  expect(JSON.parse(fs.readFileSync(lock, 'utf8')).pid).toBe(process.pid)

  const context = await openContext({ environ, warn: () => {}, userAgent: 'test' })
  const token = await context.session.getToken()
  expect(token.source).toBe('refresh')
  expect(server.count(REFRESH)).toBe(1)
  expect(fs.existsSync(lock)).toBe(false)
})

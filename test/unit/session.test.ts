/**
 * The token lifecycle of one env (src/core/session.ts getToken), in-process: an in-memory
 * store, a scripted protocol, a clock that moves only when told, the real lock. The rules,
 * one test (or a few) each, in the order below:
 *
 *  1. A fresh access token is served from the record, or from the access-token cache beside
 *     the keychain, with no request and no protocol built at all.
 *  2. Fresh means it outlives min-ttl (5 min by default), strictly; --min-ttl 0 serves any
 *     unexpired token; --force-refresh refreshes a fresh one.
 *  3. Otherwise, under the env's lock: the stored refresh token is sent, once; the answer is
 *     saved (new access token, obtainedAt now, the env's binding) and cached.
 *  4. A rotated refresh token replaces the old one and is saved as irreplaceable; a server
 *     that does not rotate leaves the old one (and its expiry) in place.
 *  5. A rotation is never lost: when the store refuses the save, the record is kept aside
 *     (the real RescuingStore) with a warning, the token is served, and the next run moves
 *     it back and refreshes with the new refresh token. A save that is not a rotation fails
 *     (exit 6): the stored refresh token still works.
 *  6. Re-read under the lock: another process that refreshed while we waited for the lock
 *     has done our work (`justObtained`), even for --force-refresh, even for a token under
 *     min-ttl; so has one that finished after the fast path first found the token stale
 *     (the lock it handed over says when). A record dated in the future is no such work.
 *  7. An expired refresh token is not sent: login required (exit 3, "has expired").
 *  8. Refresh rejected: the dead refresh token is dropped from the record (status tells the
 *     truth, the next run makes no request) and login required (exit 3); with a user name
 *     and password from variables, a full login instead; with a client secret, the
 *     client-credentials grant.
 *  9. A refresh token from variables is used when none is stored (the stored one wins); one
 *     the server rejects leaves the store alone.
 * 10. Client credentials have no refresh token: the grant is run again, with the secret from
 *     a variable (never stored) or the one a person typed (kept in the record).
 * 11. Server or network error: exit 5, the record kept as it was, no fallback login.
 * 12. A record that cannot be read: login required (exit 3) saying why; with credentials
 *     from variables, a login replaces it. A store out of reach: exit 6, no request.
 * 13. A record (or cache entry) bound to another server, client or user is never used and
 *     none of its secrets sent: login required (exit 3) saying for what it was made; with
 *     credentials, a login replaces it. A record from before bindings is adopted and bound.
 * 14. Nothing stored and no credentials: login required (exit 3), the fix per protocol.
 * 15. Every refresh and login is told to the listener (the audit log), failures too; a
 *     listener that throws changes nothing.
 */
import fs from 'node:fs'
import path from 'node:path'

import { acquireLock, handOverLock } from '../../src/base/lock.js'
import { CorruptRecordError, LoginRequiredError, ServerError, StoreUnavailableError } from '../../src/base/errors.js'
import { RefreshRejectedError } from '../../src/protocols/types.js'
import { FileStore } from '../../src/stores/file-store.js'
import { RescuingStore } from '../../src/stores/rescue-store.js'
import {
  API_BINDING,
  type Harness,
  MIN,
  OAUTH2_BINDING,
  OAUTH2_ENV,
  type Setup,
  T0,
  failure,
  harness,
  loggedIn,
  tokens,
} from './session-harness.js'
import type { InMemoryStore } from '../support/in-memory-store.js'

const rejected = () =>
  new RefreshRejectedError('The server no longer takes the refresh token of "prod".', 'Run: tokenctl login -e prod')
const password = { username: 'ci-bot', password: 'pw' }

describe('1. a fresh token is served as it is', () => {
  test('from the record: no request, no protocol built, nothing written', async () => {
    const h = harness({ record: loggedIn(T0) })
    h.clock.now = T0 + 10 * MIN
    expect(await h.session.getToken()).toEqual({
      accessToken: 'A1',
      accessExpiresAt: T0 + 30 * MIN,
      source: 'cache',
      user: undefined,
    })
    expect(h.protocol.builtWith).toEqual([])
    expect(h.store.writes).toEqual([])
  })
  test('from the access-token cache, when its entry is bound to this env: the store is not read', async () => {
    const h = harness({ accessCache: true })
    h.accessCache!.set('prod', {
      accessToken: 'C1',
      accessExpiresAt: T0 + 30 * MIN,
      user: 'alice',
      binding: API_BINDING,
    })
    h.store.failing.get = true
    expect(await h.session.getToken()).toEqual({
      accessToken: 'C1',
      accessExpiresAt: T0 + 30 * MIN,
      source: 'cache',
      user: 'alice',
    })
    expect(h.protocol.calls).toEqual([])
  })
})

describe('2. fresh means outliving min-ttl', () => {
  test('exactly 5 minutes left is refreshed under the default min-ttl; 5 minutes and 1 ms is served', async () => {
    const h = harness({ record: loggedIn(T0), script: { refresh: [tokens('A2', T0 + 25 * MIN)] } })
    h.clock.now = T0 + 25 * MIN - 1
    expect((await h.session.getToken()).source).toBe('cache')
    h.clock.now = T0 + 25 * MIN
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.protocol.of('refresh')).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
  })
  test('min-ttl 0 serves a token with 4 minutes left; a longer min-ttl refreshes a 20-minute one', async () => {
    const h = harness({ record: loggedIn(T0), script: { refresh: [tokens('A2', T0 + 26 * MIN)] } })
    h.clock.now = T0 + 26 * MIN
    expect((await h.session.getToken({ minTtlMs: 0 })).accessToken).toBe('A1')
    expect(h.protocol.calls).toEqual([])
    h.clock.now = T0 + 10 * MIN
    expect((await h.session.getToken({ minTtlMs: 25 * MIN })).accessToken).toBe('A2')
  })
  test('force-refresh refreshes a fresh token', async () => {
    const h = harness({ record: loggedIn(T0), script: { refresh: [tokens('A2', T0 + MIN)] } })
    h.clock.now = T0 + MIN
    expect(await h.session.getToken({ forceRefresh: true })).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.protocol.of('refresh')).toHaveLength(1)
  })
})

describe('3. refresh under the lock', () => {
  test('the stored refresh token is sent exactly once; the answer is saved, bound and cached', async () => {
    const at = T0 + 28 * MIN
    const h = harness({
      record: loggedIn(T0, { user: 'alice', binding: { ...API_BINDING, user: 'alice' } }),
      accessCache: true,
      script: { refresh: [{ ...tokens('A2', at), user: 'alice@example.com' }] },
    })
    h.clock.now = at
    expect(await h.session.getToken()).toEqual({
      accessToken: 'A2',
      accessExpiresAt: at + 30 * MIN,
      source: 'refresh',
      user: 'alice@example.com',
    })
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
    expect(h.store.peek('prod')).toEqual({
      ...loggedIn(T0),
      accessToken: 'A2',
      accessExpiresAt: at + 30 * MIN,
      obtainedAt: at,
      user: 'alice@example.com',
      binding: { ...API_BINDING, user: 'alice' },
    })
    expect(h.accessCache!.get('prod')).toEqual({
      accessToken: 'A2',
      accessExpiresAt: at + 30 * MIN,
      user: 'alice@example.com',
      binding: { ...API_BINDING, user: 'alice' },
    })
    // What a failed save kept aside was settled first, under the lock; the lock is let go.
    expect(h.store.settled).toEqual(['prod'])
    expect(fs.readdirSync(h.lockDir)).toEqual([])
  })
})

describe('4. rotation', () => {
  test('a rotated refresh token replaces the old one, saved as irreplaceable; the next refresh sends it', async () => {
    const h = harness({
      record: loggedIn(T0),
      script: { refresh: [tokens('A2', T0 + 28 * MIN, 'R2'), tokens('A3', T0 + 56 * MIN, 'R3')] },
    })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.store.writes.map((write) => write.options)).toEqual([{ irreplaceable: true }])
    expect(h.store.peek('prod')).toMatchObject({
      accessToken: 'A2',
      refreshToken: 'R2',
      refreshExpiresAt: T0 + 28 * MIN + 7 * 24 * 60 * MIN,
    })
    h.clock.now = T0 + 56 * MIN
    await h.session.getToken()
    expect(h.protocol.of('refresh').map((call) => call.refreshToken)).toEqual(['R1', 'R2'])
  })
  test('a server that does not rotate: the old refresh token and its expiry stay, the save is an ordinary one', async () => {
    const h = harness({ record: loggedIn(T0), script: { refresh: [tokens('A2', T0 + 28 * MIN)] } })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.store.writes.map((write) => write.options)).toEqual([{ irreplaceable: false }])
    expect(h.store.peek('prod')).toMatchObject({
      accessToken: 'A2',
      refreshToken: 'R1',
      refreshExpiresAt: loggedIn(T0).refreshExpiresAt,
    })
  })
})

describe('5. a rotation is never lost', () => {
  const rescuing = (store: InMemoryStore, dir: string, warn: (message: string) => void) =>
    new RescuingStore(store, new FileStore(path.join(dir, 'runtime'), () => {}, 'cache'), warn)

  test('the store refuses the rotated record: it is kept aside with a warning, served, and moved back and used on the next run', async () => {
    const at = T0 + 28 * MIN
    const h = harness({
      record: loggedIn(T0),
      wrap: rescuing,
      script: { refresh: [tokens('A2', at, 'R2'), tokens('A3', at + MIN, 'R3')] },
    })
    h.clock.now = at
    h.store.failing.set = true
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.warnings).toHaveLength(1)
    expect(h.store.peek('prod')?.refreshToken).toBe('R1')
    const aside = JSON.parse(fs.readFileSync(path.join(h.dir, 'runtime', 'credentials.json'), 'utf8')) as {
      envs: Record<string, { refreshToken: string }>
    }
    expect(aside.envs.prod?.refreshToken).toBe('R2')
    // The store works again: the record kept aside goes back into it, and R2 is what is sent.
    h.store.failing.set = false
    h.clock.now = at + MIN
    await h.session.getToken({ forceRefresh: true })
    expect(h.protocol.of('refresh').map((call) => call.refreshToken)).toEqual(['R1', 'R2'])
    expect(h.store.peek('prod')).toMatchObject({ accessToken: 'A3', refreshToken: 'R3' })
  })
  test('a save that is not a rotation fails out loud (exit 6): the stored refresh token still works', async () => {
    const h = harness({ record: loggedIn(T0), wrap: rescuing, script: { refresh: [tokens('A2', T0 + 28 * MIN)] } })
    h.clock.now = T0 + 28 * MIN
    h.store.failing.set = true
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(error.exitCode).toBe(6)
    expect(h.store.peek('prod')).toEqual(loggedIn(T0))
    expect(h.events).toEqual([{ env: 'prod', event: 'refresh', source: 'store', outcome: 'failure', error }])
  })
})

describe('6. re-read under the lock', () => {
  /**
   * Another process holds the env's lock: `run` starts and waits for it; once it waits,
   * `meanwhile` does that process's work, and the lock is let go.
   */
  async function whileHeld(
    setup: Setup,
    run: (h: Harness) => Promise<unknown>,
    meanwhile: (h: Harness) => void,
  ): Promise<{ h: Harness; result: unknown }> {
    let waits!: () => void
    const waiting = new Promise<void>((resolve) => (waits = resolve))
    const h = harness({ ...setup, onLockWait: () => waits() })
    h.clock.now = T0 + 10 * MIN
    const release = await acquireLock(h.lockDir, 'prod')
    const result = run(h)
    await waiting
    meanwhile(h)
    release()
    return { h, result: await result }
  }

  test('another process refreshed while we waited: its token is served, even for force-refresh, with no request', async () => {
    const theirs = loggedIn(T0 + 10 * MIN, { accessToken: 'THEIRS', refreshToken: 'R2' })
    const { h, result } = await whileHeld(
      { record: loggedIn(T0) },
      (h) => h.session.getToken({ forceRefresh: true }),
      (h) => h.store.put('prod', theirs),
    )
    expect(result).toMatchObject({ accessToken: 'THEIRS', source: 'cache' })
    expect(h.protocol.calls).toEqual([])
    expect(h.store.peek('prod')).toEqual(theirs)
  })
  test('their token is served even with less than min-ttl left (the server gives 4-minute tokens)', async () => {
    const theirs = loggedIn(T0 + 10 * MIN, { accessToken: 'THEIRS', accessExpiresAt: T0 + 14 * MIN })
    const { h, result } = await whileHeld(
      { record: loggedIn(T0, { accessExpiresAt: T0 + 4 * MIN }) },
      (h) => h.session.getToken(),
      (h) => h.store.put('prod', theirs),
    )
    expect(result).toMatchObject({ accessToken: 'THEIRS', source: 'cache' })
    expect(h.protocol.calls).toEqual([])
  })
  test('nobody did the work while we waited: we refresh', async () => {
    const { h, result } = await whileHeld(
      { record: loggedIn(T0, { accessExpiresAt: T0 + 4 * MIN }), script: { refresh: [tokens('A2', T0 + 10 * MIN)] } },
      (h) => h.session.getToken(),
      () => {},
    )
    expect(result).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
  })
  test('a token they left already expired is refreshed all the same', async () => {
    const h = harness({
      record: loggedIn(T0, { accessExpiresAt: T0 + 4 * MIN, obtainedAt: T0 + 4 * MIN }),
      script: { refresh: [tokens('A2', T0 + 4 * MIN)] },
    })
    h.clock.now = T0 + 4 * MIN
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
  })
  test('the fast path found the token stale and handed its lock over: work finished since then is ours too', async () => {
    const h = harness({ record: loggedIn(T0, { accessExpiresAt: T0 + 13 * MIN, obtainedAt: T0 + 9 * MIN }) })
    h.clock.now = T0 + 10 * MIN
    handOverLock(h.lockDir, 'prod', await acquireLock(h.lockDir, 'prod'), T0 + 8 * MIN)
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A1', source: 'cache' })
    expect(h.protocol.calls).toEqual([])
    expect(fs.readdirSync(h.lockDir)).toEqual([])
  })
  test('work finished before the fast path asked is not: the stale token is refreshed', async () => {
    const h = harness({
      record: loggedIn(T0, { accessExpiresAt: T0 + 13 * MIN, obtainedAt: T0 + 7 * MIN }),
      script: { refresh: [tokens('A2', T0 + 10 * MIN)] },
    })
    h.clock.now = T0 + 10 * MIN
    handOverLock(h.lockDir, 'prod', await acquireLock(h.lockDir, 'prod'), T0 + 8 * MIN)
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
  })
  test('a record dated in the future is not taken for work just done: force-refresh refreshes', async () => {
    const h = harness({
      record: loggedIn(T0, { obtainedAt: T0 + 60 * MIN }),
      script: { refresh: [tokens('A2', T0 + MIN)] },
    })
    h.clock.now = T0 + MIN
    expect(await h.session.getToken({ forceRefresh: true })).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.protocol.of('refresh')).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
    expect(h.store.peek('prod')?.obtainedAt).toBe(T0 + MIN)
  })
})

describe('7. an expired refresh token', () => {
  test('is not sent: login required (exit 3), the login "has expired"', async () => {
    const h = harness({ record: loggedIn(T0, { refreshExpiresAt: T0 + 40 * MIN }) })
    h.clock.now = T0 + 40 * MIN
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(LoginRequiredError)
    expect(error).toMatchObject({
      exitCode: 3,
      message: 'The login to "prod" has expired.',
      fix: 'Run: tokenctl login -e prod',
    })
    expect(h.protocol.calls).toEqual([])
  })
})

describe('8. a refresh token the server rejects', () => {
  test('without credentials: login required (exit 3); the dead refresh token and access token are dropped, the rest kept', async () => {
    const h = harness({
      record: loggedIn(T0, { user: 'alice', flow: 'password' }),
      accessCache: true,
      script: { refresh: [rejected()] },
    })
    h.accessCache!.set('prod', { accessToken: 'A1', accessExpiresAt: T0 + 30 * MIN, binding: API_BINDING })
    h.clock.now = T0 + 28 * MIN
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(RefreshRejectedError)
    expect(error.exitCode).toBe(3)
    expect(h.store.peek('prod')).toEqual({
      user: 'alice',
      clientSecret: undefined,
      flow: 'password',
      binding: API_BINDING,
    })
    expect(h.accessCache!.get('prod')).toBeUndefined()
    // The next run knows there is nothing to send.
    const next = await failure(h.session.getToken())
    expect(next).toMatchObject({ exitCode: 3, message: 'Not logged in to "prod".' })
    expect(h.protocol.of('refresh')).toHaveLength(1)
  })
  test('with a user name and password from variables: a full login, bound to that user', async () => {
    const at = T0 + 28 * MIN
    const h = harness({
      record: loggedIn(T0),
      credentials: { password },
      script: { refresh: [rejected()], login: [tokens('L1', at, 'LR1')] },
    })
    h.clock.now = at
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'L1', source: 'login' })
    expect(h.protocol.calls).toEqual([
      { method: 'refresh', refreshToken: 'R1' },
      { method: 'login', request: { flow: 'password', credentials: password } },
    ])
    expect(h.store.peek('prod')).toMatchObject({
      accessToken: 'L1',
      refreshToken: 'LR1',
      obtainedAt: at,
      binding: { ...API_BINDING, user: 'ci-bot' },
    })
    expect(h.events.map(({ event, outcome, source }) => [event, outcome, source])).toEqual([
      ['refresh', 'failure', 'store'],
      ['login', 'ok', 'variables'],
    ])
  })
  test('with a client secret from variables (oauth2): the client-credentials grant', async () => {
    const at = T0 + 28 * MIN
    const h = harness({
      env: OAUTH2_ENV,
      record: loggedIn(T0, { binding: OAUTH2_BINDING }),
      credentials: { client: { clientId: 'cli', clientSecret: 's3cret' } },
      clientSecret: 's3cret',
      script: { refresh: [rejected()], login: [tokens('CC1', at)] },
    })
    h.clock.now = at
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'CC1', source: 'login' })
    expect(h.protocol.of('login')).toEqual([{ method: 'login', request: { flow: 'client-credentials' } }])
  })
})

describe('9. a refresh token from variables', () => {
  test('is used when nothing is stored, and what it buys is saved', async () => {
    const h = harness({ credentials: { refreshToken: 'RV' }, script: { refresh: [tokens('A2', T0, 'R2')] } })
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'RV' }])
    expect(h.store.peek('prod')).toMatchObject({ accessToken: 'A2', refreshToken: 'R2', binding: API_BINDING })
    expect(h.events).toEqual([{ env: 'prod', event: 'refresh', source: 'variables', outcome: 'ok', user: undefined }])
  })
  test('the stored one wins over it', async () => {
    const h = harness({
      record: loggedIn(T0),
      credentials: { refreshToken: 'RV' },
      script: { refresh: [tokens('A2', T0 + 28 * MIN)] },
    })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
  })
  test('rejected: login required (exit 3), and the store is left alone', async () => {
    const h = harness({ credentials: { refreshToken: 'RV' }, script: { refresh: [rejected()] } })
    expect(await failure(h.session.getToken())).toBeInstanceOf(RefreshRejectedError)
    expect(h.store.writes).toEqual([])
  })
})

describe('10. client credentials are run again', () => {
  test('with the secret from a variable: granted, saved without secret or refresh token, granted again when the token runs low', async () => {
    const h = harness({
      env: OAUTH2_ENV,
      credentials: { client: { clientId: 'cli', clientSecret: 's3cret' } },
      clientSecret: 's3cret',
      script: { login: [tokens('CC1', T0), tokens('CC2', T0 + 26 * MIN)] },
    })
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'CC1', source: 'login' })
    expect(h.store.peek('corp')).toEqual({
      accessToken: 'CC1',
      accessExpiresAt: T0 + 30 * MIN,
      refreshToken: undefined,
      refreshExpiresAt: undefined,
      user: undefined,
      obtainedAt: T0,
      binding: OAUTH2_BINDING,
    })
    h.clock.now = T0 + 10 * MIN
    expect((await h.session.getToken()).accessToken).toBe('CC1')
    h.clock.now = T0 + 26 * MIN
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'CC2', source: 'login' })
    expect(h.protocol.calls).toEqual([
      { method: 'login', request: { flow: 'client-credentials' } },
      { method: 'login', request: { flow: 'client-credentials' } },
    ])
    expect(h.protocol.builtWith).toEqual([
      { value: 's3cret', from: 'variable' },
      { value: 's3cret', from: 'variable' },
    ])
    expect(h.events.map(({ event, source, flow }) => [event, source, flow])).toEqual([
      ['login', 'variables', 'client-credentials'],
      ['login', 'variables', 'client-credentials'],
    ])
  })
  test('with the secret a person typed at login, kept in the record with the flow', async () => {
    const record = {
      accessToken: 'CC1',
      accessExpiresAt: T0 + 30 * MIN,
      obtainedAt: T0,
      clientSecret: 'typed',
      flow: 'client-credentials' as const,
      binding: OAUTH2_BINDING,
    }
    const h = harness({ env: OAUTH2_ENV, record, script: { login: [tokens('CC2', T0 + 28 * MIN)] } })
    h.clock.now = T0 + 28 * MIN
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'CC2', source: 'login' })
    expect(h.protocol.builtWith).toEqual([{ value: 'typed', from: 'store' }])
    expect(h.store.peek('corp')).toMatchObject({
      accessToken: 'CC2',
      clientSecret: 'typed',
      flow: 'client-credentials',
    })
    expect(h.events[0]).toMatchObject({ event: 'login', source: 'store', flow: 'client-credentials', outcome: 'ok' })
  })
  test('a record of another flow, with no secret from a variable, is not: login required', async () => {
    const h = harness({
      env: OAUTH2_ENV,
      record: {
        accessToken: 'A1',
        accessExpiresAt: T0,
        clientSecret: 'typed',
        flow: 'device',
        binding: OAUTH2_BINDING,
      },
    })
    expect(await failure(h.session.getToken())).toMatchObject({ exitCode: 3, message: 'Not logged in to "corp".' })
    expect(h.protocol.calls).toEqual([])
  })
})

describe('11. a server or network error', () => {
  test('exit 5; the record stays as it was; no fallback login even with credentials', async () => {
    const h = harness({
      record: loggedIn(T0),
      accessCache: true,
      credentials: { password },
      script: { refresh: [new ServerError('The server answered 503.', 'Try again later.')] },
    })
    h.clock.now = T0 + 28 * MIN
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(ServerError)
    expect(error.exitCode).toBe(5)
    expect(h.store.peek('prod')).toEqual(loggedIn(T0))
    expect(h.store.writes).toEqual([])
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
    expect(h.events).toEqual([{ env: 'prod', event: 'refresh', source: 'store', outcome: 'failure', error }])
  })
})

describe('12. a record that cannot be read', () => {
  test('without credentials: login required (exit 3) saying why; nothing sent, nothing written', async () => {
    const h = harness()
    h.store.corrupt.add('prod')
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(CorruptRecordError)
    expect(error).toMatchObject({ exitCode: 3, message: 'The entry of "prod" in memory cannot be used (not JSON).' })
    expect(h.protocol.calls).toEqual([])
    expect(h.store.writes).toEqual([])
  })
  test('with a user name and password from variables: a login replaces it', async () => {
    const h = harness({ credentials: { password }, script: { login: [tokens('L1', T0, 'LR1')] } })
    h.store.corrupt.add('prod')
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'L1', source: 'login' })
    expect(h.store.peek('prod')).toMatchObject({
      accessToken: 'L1',
      refreshToken: 'LR1',
      binding: { ...API_BINDING, user: 'ci-bot' },
    })
  })
  test('a store out of reach: exit 6, no protocol built', async () => {
    const h = harness({ credentials: { password } })
    h.store.failing.get = true
    expect(await failure(h.session.getToken())).toMatchObject({ exitCode: 6 })
    expect(h.protocol.builtWith).toEqual([])
  })
})

describe('13. bindings', () => {
  const elsewhere = { protocol: 'api' as const, server: 'https://other.example.com' }
  test('a record made for another server is not used and its secrets go nowhere: login required (exit 3) naming it', async () => {
    const h = harness({ record: loggedIn(T0, { binding: elsewhere, clientSecret: 'theirs' }) })
    const error = await failure(h.session.getToken())
    expect(error).toBeInstanceOf(LoginRequiredError)
    expect(error).toMatchObject({
      exitCode: 3,
      message: 'The stored login of "prod" was made for https://other.example.com, not https://api.example.com.',
    })
    expect(h.protocol.calls).toEqual([])
    expect(h.protocol.builtWith).toEqual([undefined])
    expect(h.store.peek('prod')).toEqual(loggedIn(T0, { binding: elsewhere, clientSecret: 'theirs' }))
  })
  test('with credentials from variables, a login replaces it, bound to this env', async () => {
    const h = harness({
      record: loggedIn(T0, { binding: elsewhere }),
      credentials: { password },
      script: { login: [tokens('L1', T0, 'LR1')] },
    })
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'L1', source: 'login' })
    expect(h.protocol.of('refresh')).toEqual([])
    expect(h.store.peek('prod')).toMatchObject({ refreshToken: 'LR1', binding: { ...API_BINDING, user: 'ci-bot' } })
  })
  test('an access-cache entry bound elsewhere is a miss: the record decides', async () => {
    const h = harness({ record: loggedIn(T0), accessCache: true })
    h.accessCache!.set('prod', { accessToken: 'OTHER', accessExpiresAt: T0 + 30 * MIN, binding: elsewhere })
    expect((await h.session.getToken()).accessToken).toBe('A1')
  })
  test('a record from before bindings is adopted and bound at its next save', async () => {
    const h = harness({
      record: loggedIn(T0, { binding: undefined }),
      script: { refresh: [tokens('A2', T0 + 28 * MIN)] },
    })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
    expect(h.store.peek('prod')?.binding).toEqual(API_BINDING)
  })
})

describe('14. nothing stored, no credentials', () => {
  test('api: login required (exit 3), naming the variables', async () => {
    expect(await failure(harness().session.getToken())).toMatchObject({
      exitCode: 3,
      message: 'Not logged in to "prod".',
      fix: 'Run: tokenctl login -e prod (or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD in CI).',
    })
  })
  test('oauth2: the fix names TOKENCTL_CLIENT_SECRET too', async () => {
    expect(await failure(harness({ env: OAUTH2_ENV }).session.getToken())).toMatchObject({
      exitCode: 3,
      fix: 'Run: tokenctl login -e corp (or set TOKENCTL_CLIENT_SECRET, or TOKENCTL_USERNAME and TOKENCTL_PASSWORD, in CI).',
    })
  })
})

describe('15. the listener', () => {
  test('a refresh is told once it is saved; a listener that throws changes nothing', async () => {
    const h = harness({
      record: loggedIn(T0),
      script: { refresh: [tokens('A2', T0 + 28 * MIN), tokens('A3', T0 + 56 * MIN)] },
    })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.events).toEqual([{ env: 'prod', event: 'refresh', source: 'store', outcome: 'ok', user: undefined }])
    h.events.push = () => {
      throw new Error('the audit log is full')
    }
    h.clock.now = T0 + 56 * MIN
    expect(await h.session.getToken()).toMatchObject({ source: 'refresh' })
  })
})

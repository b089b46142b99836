/**
 * The OpenID Connect ID token `kube-credential --id-token` hands out (docs/design.md#kubectl),
 * in-process:
 *
 *  1. Read from a token answer with its expiry from its own `exp` claim (decoded, never
 *     verified); one with no readable `exp`, or not a bearer token, is not kept, and is a
 *     secret all the same.
 *  2. Kept where the access token is: a stored record with an ID token that is not a bearer
 *     token is refused like any; the access-token cache drops an unusable ID token alone.
 *  3. The session serves it while it outlives min-ttl (from the record or the cache, no
 *     request), and refreshes when it does not, whatever the access token's life; only
 *     the ID token of that very answer is handed out, and one past its exp never is.
 *  4. No ID token to be had is exit 2 with the fix: an api env (no request), a scope
 *     without openid (no request), an answer without one (the tokens still saved), tokens
 *     another process has just obtained without one (no second request).
 *  5. A refresh answer without an ID token keeps the login's while it lasts; a new login
 *     replaces it with its own or none.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { UsageError } from '../../src/base/errors.js'
import { redactAll } from '../../src/base/secrets.js'
import type { HttpResponse } from '../../src/protocols/http.js'
import { idTokenOf, tokensOf } from '../../src/protocols/oauth2-tokens.js'
import { AccessCache } from '../../src/stores/access-cache.js'
import { parseRecordText } from '../../src/stores/types.js'
import { API_ENV, failure, harness, loggedIn, MIN, OAUTH2_BINDING, OAUTH2_ENV, T0, tokens } from './session-harness.js'

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

describe('1. read from a token answer', () => {
  test('its exp claim (seconds) is its expiry, in epoch ms', () => {
    const token = jwt({ iss: 'https://id.example.com', aud: 'cli', exp: 1_900_000_000 })
    expect(idTokenOf(token)).toEqual({ idToken: token, idExpiresAt: 1_900_000_000_000 })
  })

  test.each<[string, unknown]>([
    ['no exp claim', jwt({ sub: 'alice' })],
    ['an exp that is a string', jwt({ exp: '1900000000' })],
    ['an exp of 0', jwt({ exp: 0 })],
    ['an exp beyond any date', jwt({ exp: 1e300 })],
    ['not a JWT', 'an-opaque-token-of-some-length'],
    ['claims that are not JSON', `eyJhbGciOiJub25lIn0.${Buffer.from('not json').toString('base64url')}.c2ln`],
    ['characters a bearer token cannot have', `${jwt({ exp: 1_900_000_000 })}\n`],
    ['not a string', 42],
  ])('%s: not kept', (_what, value) => {
    expect(idTokenOf(value)).toBeUndefined()
  })

  const answer = (body: object): HttpResponse => ({
    status: 200,
    json: body,
    text: JSON.stringify(body),
    contentType: 'application/json',
  })
  const request = { host: 'id.example.com', clientId: 'cli', sent: [] }

  test('tokensOf keeps it beside the access token, as a secret', () => {
    const idToken = jwt({ sub: 'alice-of-the-kept-id-token', exp: 1_900_000_000 })
    const set = tokensOf(
      answer({ access_token: 'an-access-token', token_type: 'Bearer', expires_in: 60, id_token: idToken }),
      'refresh',
      request,
    )
    expect(set).toMatchObject({ accessToken: 'an-access-token', idToken, idExpiresAt: 1_900_000_000_000 })
    expect(redactAll(`id ${idToken}`)).toBe('id ***')
  })

  test('an answer without one, or with one that has no exp: no ID token, and the unusable one is still a secret', () => {
    expect(tokensOf(answer({ access_token: 'an-access-token', token_type: 'Bearer' }), 'refresh', request)).toEqual({
      accessToken: 'an-access-token',
      accessExpiresAt: expect.any(Number),
    })
    const noExp = jwt({ sub: 'alice-of-the-id-token-without-exp' })
    const set = tokensOf(
      answer({ access_token: 'an-access-token', token_type: 'Bearer', id_token: noExp }),
      'refresh',
      request,
    )
    expect(set.idToken).toBeUndefined()
    expect(redactAll(`id ${noExp}`)).toBe('id ***')
  })
})

describe('2. kept where the access token is', () => {
  test('a stored ID token that is not a bearer token makes the record unusable; one whose expiry is no time too', () => {
    expect(parseRecordText(JSON.stringify({ refreshToken: 'R1', idToken: 'a b' }))).toEqual({
      problem: 'its ID token is not a bearer token',
    })
    expect(parseRecordText(JSON.stringify({ refreshToken: 'R1', idToken: 'I1', idExpiresAt: 'soon' }))).toEqual({
      problem: 'idExpiresAt is not a time',
    })
    expect(parseRecordText(JSON.stringify({ refreshToken: 'R1', idToken: 'I1', idExpiresAt: 5 }))).toEqual({
      record: { refreshToken: 'R1', idToken: 'I1', idExpiresAt: 5 },
    })
  })

  test('the access-token cache: an ID token kept with its expiry; an unusable one is dropped alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-id-cache-'))
    try {
      const cache = new AccessCache(path.join(dir, 'access'))
      const entry = { accessToken: 'A1', accessExpiresAt: 10, idToken: 'I1', idExpiresAt: 20 }
      cache.set('corp', entry)
      expect(cache.get('corp')).toEqual(entry)
      fs.writeFileSync(cache.file('corp'), JSON.stringify({ ...entry, idToken: 'I 1' }), { mode: 0o600 })
      expect(cache.get('corp')).toEqual({ accessToken: 'A1', accessExpiresAt: 10 })
      fs.writeFileSync(cache.file('corp'), JSON.stringify({ ...entry, idExpiresAt: undefined }), { mode: 0o600 })
      expect(cache.get('corp')).toEqual({ accessToken: 'A1', accessExpiresAt: 10 })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** A login to the oauth2 env at `at`, with an ID token of an hour beside the 30-minute access token. */
const withId = (at: number, extra: object = {}) =>
  loggedIn(at, { idToken: 'I1', idExpiresAt: at + 60 * MIN, binding: OAUTH2_BINDING, ...extra })
const oauth2 = { env: OAUTH2_ENV, key: 'corp' }

describe('3. served while it outlives min-ttl, else refreshed', () => {
  test('from the record, though the access token is past min-ttl: no request, no protocol built', async () => {
    const h = harness({ ...oauth2, record: withId(T0) })
    h.clock.now = T0 + 28 * MIN
    expect(await h.session.getIdToken()).toEqual({
      idToken: 'I1',
      idExpiresAt: T0 + 60 * MIN,
      source: 'cache',
      user: undefined,
    })
    expect(h.protocol.builtWith).toEqual([])
    expect(h.store.writes).toEqual([])
  })

  test('from the access-token cache: the store is not read', async () => {
    const h = harness({ ...oauth2, accessCache: true })
    h.accessCache!.set('corp', {
      accessToken: 'C1',
      accessExpiresAt: T0 + 30 * MIN,
      idToken: 'CI1',
      idExpiresAt: T0 + 60 * MIN,
      binding: OAUTH2_BINDING,
    })
    h.store.failing.get = true
    expect(await h.session.getIdToken()).toMatchObject({ idToken: 'CI1', source: 'cache' })
    expect(h.protocol.calls).toEqual([])
  })

  test('within min-ttl while the access token is fresh: refreshed; the new one handed out, saved and cached', async () => {
    const at = T0 + 56 * MIN
    const h = harness({
      ...oauth2,
      accessCache: true,
      record: withId(T0, { accessExpiresAt: T0 + 90 * MIN }),
      script: { refresh: [{ ...tokens('A2', at, 'R2'), idToken: 'I2', idExpiresAt: at + 60 * MIN }] },
    })
    h.clock.now = at
    expect(await h.session.getIdToken()).toEqual({
      idToken: 'I2',
      idExpiresAt: at + 60 * MIN,
      source: 'refresh',
      user: undefined,
    })
    expect(h.protocol.calls).toEqual([{ method: 'refresh', refreshToken: 'R1' }])
    expect(h.store.peek('corp')).toMatchObject({ accessToken: 'A2', idToken: 'I2', idExpiresAt: at + 60 * MIN })
    expect(h.accessCache!.get('corp')).toMatchObject({ accessToken: 'A2', idToken: 'I2' })
    // The next one is served from the record.
    expect(await h.session.getIdToken()).toMatchObject({ idToken: 'I2', source: 'cache' })
    expect(h.protocol.calls).toHaveLength(1)
  })

  test('an ID token past its exp is never handed out, even with min-ttl 0: refreshed', async () => {
    const at = T0 + 61 * MIN
    const h = harness({
      ...oauth2,
      record: withId(T0, { accessExpiresAt: T0 + 90 * MIN }),
      script: { refresh: [{ ...tokens('A2', at), idToken: 'I2', idExpiresAt: at + 60 * MIN }] },
    })
    h.clock.now = at
    expect(await h.session.getIdToken({ minTtlMs: 0 })).toMatchObject({ idToken: 'I2', source: 'refresh' })
  })

  test('none stored (a login from before ID tokens were kept), scope not set: refreshed to get one', async () => {
    const h = harness({
      ...oauth2,
      record: loggedIn(T0, { binding: OAUTH2_BINDING }),
      script: { refresh: [{ ...tokens('A2', T0), idToken: 'I2', idExpiresAt: T0 + 60 * MIN }] },
    })
    h.clock.now = T0 + MIN
    expect(await h.session.getIdToken()).toMatchObject({ idToken: 'I2', source: 'refresh' })
  })
})

describe('4. no ID token to be had: exit 2 with the fix', () => {
  test('an api env: no protocol built', async () => {
    const h = harness({ env: API_ENV, record: loggedIn(T0) })
    const error = await failure(h.session.getIdToken())
    expect(error).toBeInstanceOf(UsageError)
    expect(error.exitCode).toBe(2)
    expect(error.message).toContain('"prod" uses the api protocol')
    expect(h.protocol.builtWith).toEqual([])
  })

  test('a scope without openid: no request', async () => {
    const h = harness({
      env: { ...OAUTH2_ENV, scope: 'offline_access api:read' },
      key: 'corp',
      record: loggedIn(T0, { binding: OAUTH2_BINDING }),
    })
    h.clock.now = T0 + MIN
    const error = await failure(h.session.getIdToken())
    expect(error).toMatchObject({
      exitCode: 2,
      message:
        '"corp" gets no ID token: its scope ("offline_access api:read") has no openid, and a server sends one only for openid.',
    })
    expect(error.fix).toBe(
      'Add openid to the scope and log in again: tokenctl env add corp … --scope "openid offline_access" --force, then tokenctl login -e corp',
    )
    expect(h.protocol.calls).toEqual([])
  })

  test('an answer without one: exit 2, and the tokens it brought are saved all the same', async () => {
    const at = T0 + 28 * MIN
    const h = harness({
      ...oauth2,
      record: withId(T0, { idExpiresAt: T0 + 30 * MIN }),
      script: { refresh: [tokens('A2', at, 'R2')] },
    })
    h.clock.now = at
    const error = await failure(h.session.getIdToken())
    expect(error).toMatchObject({ exitCode: 2, message: expect.stringContaining('sent no ID token') })
    // The old one (2 minutes left) stays in the record, but was not handed out.
    expect(h.store.peek('corp')).toMatchObject({ accessToken: 'A2', refreshToken: 'R2', idToken: 'I1' })
  })

  test('tokens another process has just obtained without one: no second request', async () => {
    const at = T0 + 10 * MIN
    const h = harness({ ...oauth2, record: loggedIn(T0, { obtainedAt: at, binding: OAUTH2_BINDING }) })
    h.clock.now = at
    const error = await failure(h.session.getIdToken())
    expect(error).toMatchObject({ exitCode: 2, message: expect.stringContaining('sent no ID token') })
    expect(h.protocol.calls).toEqual([])
  })
})

describe('5. what a save keeps', () => {
  test("a refresh answer without one keeps the login's while it lasts; a dead one goes", async () => {
    const h = harness({
      ...oauth2,
      record: withId(T0),
      script: { refresh: [tokens('A2', T0 + 28 * MIN), tokens('A3', T0 + 61 * MIN)] },
    })
    h.clock.now = T0 + 28 * MIN
    await h.session.getToken()
    expect(h.store.peek('corp')).toMatchObject({ accessToken: 'A2', idToken: 'I1', idExpiresAt: T0 + 60 * MIN })
    h.clock.now = T0 + 61 * MIN
    await h.session.getToken()
    expect(h.store.peek('corp')?.accessToken).toBe('A3')
    expect(h.store.peek('corp')?.idToken).toBeUndefined()
    expect(h.store.peek('corp')?.idExpiresAt).toBeUndefined()
  })

  test('a new login replaces it with its own, or with none', async () => {
    const h = harness({
      ...oauth2,
      record: withId(T0),
      script: {
        login: [{ ...tokens('A2', T0), idToken: 'I2', idExpiresAt: T0 + 60 * MIN }, tokens('A3', T0)],
      },
    })
    const credentials = { username: 'alice', password: 'pw' }
    await h.session.login({ flow: 'password', credentials })
    expect(h.store.peek('corp')).toMatchObject({ accessToken: 'A2', idToken: 'I2' })
    await h.session.login({ flow: 'password', credentials })
    expect(h.store.peek('corp')?.accessToken).toBe('A3')
    expect(h.store.peek('corp')?.idToken).toBeUndefined()
  })
})

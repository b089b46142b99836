/**
 * The record split on Windows (src/stores/split-record-store.ts, chosen in open.ts), with
 * made-up platform facts and a keychain that refuses an entry over 2,560 bytes of UTF-16
 * as Windows Credential Manager does (test/support/windows-keychain.ts). The session and
 * the rescue of a rotated refresh token are the real ones (session-harness.ts):
 *
 *  - a login with a 2 KB access token and a 1 KB refresh token is stored: the keychain
 *    entry fits and holds no access token, the access token is in the access-token cache
 *    (where the fast path looks), and a later run reads the record back whole;
 *  - a cache hit is served from the two parts, with no request;
 *  - a refresh that rotates the refresh token saves the new one in the keychain;
 *  - forget, `git credential erase` and `env list` see the record as one;
 *  - a refresh token that does not fit even alone: exit 6 naming the sizes and the way
 *    out, never the token; at a rotation the rescue file keeps it, with that warning;
 *  - with Linux facts the record stays one entry, as it always was.
 */
import fs from 'node:fs'
import path from 'node:path'

import { StoreUnavailableError } from '../../src/base/errors.js'
import { currentPlatform, type Platform } from '../../src/base/platform.js'
import { AccessCache } from '../../src/stores/access-cache.js'
import { FileStore } from '../../src/stores/file-store.js'
import { KeychainStore } from '../../src/stores/keychain-store.js'
import { fitToKeychain, openStore } from '../../src/stores/open.js'
import { RescuingStore } from '../../src/stores/rescue-store.js'
import { SplitRecordStore } from '../../src/stores/split-record-store.js'
import type { SecretRecord } from '../../src/stores/types.js'
import { FakeKeychain } from '../support/windows-keychain.js'
import { type Harness, MIN, OAUTH2_BINDING, OAUTH2_ENV, type Setup, T0, failure, harness } from './session-harness.js'

const WIN32: Pick<Platform, 'os'> = { os: 'win32' }
const LINUX: Pick<Platform, 'os'> = { os: 'linux' }

/** A bearer token of `chars` characters (one byte each in UTF-8, two in UTF-16), told apart by `tag`. */
const token = (tag: string, chars: number) => `${tag}.${'x'.repeat(chars - tag.length - 1)}`
const A1 = token('A1', 2048)
const A2 = token('A2', 2048)
const R1 = token('R1', 1024)
const R2 = token('R2', 1024)
const USER = 'ada@example.com'
const answer = (accessToken: string, at: number, refreshToken?: string) => ({
  accessToken,
  accessExpiresAt: at + 30 * MIN,
  ...(refreshToken ? { refreshToken, refreshExpiresAt: at + 7 * 24 * 60 * MIN } : {}),
  user: USER,
})

interface Windows extends Harness {
  keychain: FakeKeychain
  /** The access-token cache dir, as the session and the fast path know it. */
  cacheDir: string
  /** The store a later run opens on the same keychain and cache. */
  later: () => ReturnType<typeof fitToKeychain>
}

/**
 * A session on `platform` as context.ts builds it: the keychain fitted to the platform,
 * inside the real RescuingStore. `sessionCache`: the session's own access-cache beside it
 * (off, a cache hit can come only from the store's read).
 */
function windows(
  script: Setup['script'],
  { platform = WIN32, keychain = new FakeKeychain(), sessionCache = true } = {},
): Windows {
  const h = harness({
    env: OAUTH2_ENV,
    script,
    accessCache: sessionCache,
    wrap: (_memory, dir, warn) =>
      new RescuingStore(
        fitToKeychain(keychain, platform, path.join(dir, 'access')),
        new FileStore(path.join(dir, 'runtime'), () => {}, 'cache'),
        warn,
      ),
  })
  const cacheDir = path.join(h.dir, 'access')
  return { ...h, keychain, cacheDir, later: () => fitToKeychain(keychain, platform, cacheDir) }
}

function entryOf(h: Windows): string {
  const text = h.keychain.entries.get('corp')
  if (text === undefined) throw new Error('no keychain entry for corp')
  return text
}

describe('a Keycloak-sized login on Windows', () => {
  test('is stored split: the entry fits and holds no access token; the cache has it; a later run reads it whole', async () => {
    const h = windows({ login: [answer(A1, T0, R1)] })
    const saved = await h.session.login({ flow: 'device' })
    const entry = entryOf(h)
    expect(FakeKeychain.bytes(entry)).toBeLessThanOrEqual(2560)
    expect(entry).not.toContain(A1)
    expect(JSON.parse(entry)).toEqual({
      refreshToken: R1,
      refreshExpiresAt: T0 + 7 * 24 * 60 * MIN,
      user: USER,
      obtainedAt: T0,
      flow: 'device',
      binding: OAUTH2_BINDING,
    })
    // What the fast path serves a cache hit from.
    expect(new AccessCache(h.cacheDir).get('corp')).toMatchObject({ accessToken: A1, accessExpiresAt: T0 + 30 * MIN })
    const whole: SecretRecord = {
      accessToken: A1,
      accessExpiresAt: T0 + 30 * MIN,
      refreshToken: R1,
      refreshExpiresAt: T0 + 7 * 24 * 60 * MIN,
      user: USER,
      obtainedAt: T0,
      flow: 'device',
      binding: OAUTH2_BINDING,
    }
    expect(saved).toEqual(whole)
    expect(await h.later().get('corp')).toEqual(whole)
    expect(await h.later().list()).toEqual([['corp', whole]])
  })

  test('a fresh access token is served from the two parts, with no request', async () => {
    const h = windows({ login: [answer(A1, T0, R1)] }, { sessionCache: false })
    await h.session.login({ flow: 'device' })
    h.clock.now = T0 + 10 * MIN
    expect(await h.session.getToken()).toEqual({
      accessToken: A1,
      accessExpiresAt: T0 + 30 * MIN,
      source: 'cache',
      user: USER,
    })
    expect(h.protocol.of('refresh')).toEqual([])
  })

  test('its ID token goes with the access token into the cache, and --id-token is served from the two parts', async () => {
    const I1 = token('I1', 1536)
    const h = windows(
      { login: [{ ...answer(A1, T0, R1), idToken: I1, idExpiresAt: T0 + 60 * MIN }] },
      { sessionCache: false },
    )
    await h.session.login({ flow: 'device' })
    const entry = entryOf(h)
    expect(FakeKeychain.bytes(entry)).toBeLessThanOrEqual(2560)
    expect(entry).not.toContain(I1)
    expect(new AccessCache(h.cacheDir).get('corp')).toMatchObject({ idToken: I1, idExpiresAt: T0 + 60 * MIN })
    h.clock.now = T0 + 40 * MIN
    expect(await h.session.getIdToken()).toEqual({
      idToken: I1,
      idExpiresAt: T0 + 60 * MIN,
      source: 'cache',
      user: USER,
    })
    expect(h.protocol.of('refresh')).toEqual([])
  })

  test('a refresh that rotates the refresh token saves the new one in the keychain, the new access token in the cache', async () => {
    const at = T0 + 28 * MIN
    const h = windows({ login: [answer(A1, T0, R1)], refresh: [answer(A2, at, R2)] })
    await h.session.login({ flow: 'device' })
    h.clock.now = at
    expect(await h.session.getToken()).toMatchObject({ accessToken: A2, source: 'refresh' })
    expect(h.protocol.of('refresh').map((call) => call.refreshToken)).toEqual([R1])
    const entry = entryOf(h)
    expect(FakeKeychain.bytes(entry)).toBeLessThanOrEqual(2560)
    expect(JSON.parse(entry)).toMatchObject({ refreshToken: R2, obtainedAt: at })
    expect(entry).not.toContain(A2)
    expect(h.warnings).toEqual([])
    expect(fs.existsSync(path.join(h.dir, 'runtime', 'credentials.json'))).toBe(false)
    expect(await h.later().get('corp')).toMatchObject({ accessToken: A2, refreshToken: R2 })
  })

  test('forget deletes both parts; git credential erase drops the access token from both', async () => {
    const h = windows({ login: [answer(A1, T0, R1), answer(A1, T0, R1)] }, { sessionCache: false })
    await h.session.login({ flow: 'device' })
    await h.session.dropAccessToken(A1)
    expect(new AccessCache(h.cacheDir).get('corp')).toBeUndefined()
    const dropped = await h.later().get('corp')
    expect(dropped).toMatchObject({ refreshToken: R1 })
    expect(dropped?.accessToken).toBeUndefined()

    await h.session.login({ flow: 'device' })
    expect(await h.session.forget()).toBe(true)
    expect(h.keychain.entries.size).toBe(0)
    expect(fs.readdirSync(h.cacheDir)).toEqual([])
  })

  test('an access token cached for another login (another client) is not put back into this one', async () => {
    const h = windows({ login: [answer(A1, T0, R1)] }, { sessionCache: false })
    await h.session.login({ flow: 'device' })
    new AccessCache(h.cacheDir).set('corp', {
      accessToken: A2,
      accessExpiresAt: T0 + 30 * MIN,
      binding: { ...OAUTH2_BINDING, clientId: 'other' },
    })
    const read = await h.later().get('corp')
    expect(read).toMatchObject({ refreshToken: R1 })
    expect(read?.accessToken).toBeUndefined()
  })
})

describe('a refresh token too large for Windows even alone', () => {
  const R3K = token('R3', 3072)

  test('login: exit 6 naming the sizes, the limit and --store file; nothing stored, no token said', async () => {
    const h = windows({ login: [answer(A1, T0, R3K)] })
    const error = await failure(h.session.login({ flow: 'device' }))
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(error.exitCode).toBe(6)
    expect(error.message).toMatch(
      /^The refresh token of "corp" is too large for Windows Credential Manager: its entry would be 6,\d{3} bytes \(its refresh token alone 6,144\), and an entry holds at most 2,560\.$/,
    )
    expect(error.fix).toBe(
      'Keep the tokens of "corp" in a file instead: tokenctl login -e corp --store file (or set TOKENCTL_STORE=file).',
    )
    for (const text of [error.message, error.fix]) {
      expect(text).not.toContain(R3K)
      expect(text).not.toContain(A1)
    }
    expect(h.keychain.entries.size).toBe(0)
  })

  test('a rotation to it: the rescue file keeps the new refresh token, with a warning naming the sizes', async () => {
    const at = T0 + 28 * MIN
    const h = windows({ login: [answer(A1, T0, R1)], refresh: [answer(A2, at, R3K)] })
    await h.session.login({ flow: 'device' })
    h.clock.now = at
    expect(await h.session.getToken()).toMatchObject({ accessToken: A2, source: 'refresh' })
    expect(h.warnings).toHaveLength(1)
    expect(h.warnings[0]).toContain('its refresh token alone 6,144), and an entry holds at most 2,560.')
    expect(h.warnings[0]).not.toContain(R3K)
    expect(JSON.parse(entryOf(h))).toMatchObject({ refreshToken: R1 })
    const aside = JSON.parse(fs.readFileSync(path.join(h.dir, 'runtime', 'credentials.json'), 'utf8')) as {
      envs: Record<string, SecretRecord>
    }
    expect(aside.envs.corp?.refreshToken).toBe(R3K)
  })
})

describe('other systems', () => {
  test('with Linux facts the record stays one entry, access token and all', async () => {
    const h = windows(
      { login: [answer(A1, T0, R1)] },
      { platform: LINUX, keychain: new FakeKeychain(Infinity), sessionCache: false },
    )
    await h.session.login({ flow: 'device' })
    expect(JSON.parse(entryOf(h))).toMatchObject({ accessToken: A1, refreshToken: R1 })
    expect(fs.existsSync(h.cacheDir)).toBe(false)
  })

  test('openStore splits the keychain on win32 only', () => {
    const environ = { XDG_RUNTIME_DIR: '/nonexistent-runtime' }
    return Promise.all([
      openStore('keychain', { environ, platform: { ...currentPlatform(environ), ...WIN32 } }).then((store) => {
        expect(store).toBeInstanceOf(SplitRecordStore)
        store.close?.()
      }),
      openStore('keychain', { environ, platform: { ...currentPlatform(environ), ...LINUX } }).then((store) => {
        expect(store).toBeInstanceOf(KeychainStore)
        store.close?.()
      }),
    ])
  })
})

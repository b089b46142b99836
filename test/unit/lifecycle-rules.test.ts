import { isFresh } from '../../src/base/freshness.js'
import { formatToken, isShellVariable } from '../../src/integrations/formats.js'
import { shellQuote } from '../../src/util/shell-quote.js'
import {
  DEFAULT_ACCESS_TTL_MS,
  DEFAULT_REFRESH_TTL_MS,
  isSafeToken,
  toTokenSet,
} from '../../src/protocols/token-response.js'
import { formatDuration, parseDuration } from '../../src/util/duration.js'
import { decodeJwt, jwtExpiry } from '../../src/util/jwt.js'
import { proxyFor } from '../../src/protocols/proxy.js'

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('durations', () => {
  test.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
    ['45', 45_000],
    ['500ms', 500],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  test.each(['', 'abc', '5 minutes', '-5m', '5x', 'm', '1h abc'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  )
  test('format', () => {
    expect(formatDuration(1_500_000)).toBe('25m')
    expect(formatDuration(5_400_000)).toBe('1h30m')
    expect(formatDuration(45_000)).toBe('45s')
    expect(formatDuration(-1)).toBe('0s')
  })
})

describe('freshness: the token must outlive min-ttl', () => {
  test('strictly more than min-ttl left', () => {
    expect(isFresh('t', 1000 + 300_001, 300_000, 1000)).toBe(true)
    expect(isFresh('t', 1000 + 300_000, 300_000, 1000)).toBe(false)
    expect(isFresh('t', 1000 + 240_000, 300_000, 1000)).toBe(false)
    expect(isFresh('t', 1000 + 240_000, 0, 1000)).toBe(true)
    expect(isFresh(undefined, 10 ** 15, 0, 1000)).toBe(false)
    expect(isFresh('t', undefined, 0, 1000)).toBe(false)
  })
})

describe('JWT', () => {
  test('decodes header and claims, exp in ms', () => {
    const token = jwt({ sub: 'alice', exp: 2_000_000_000 })
    expect(decodeJwt(token)?.claims.sub).toBe('alice')
    expect(jwtExpiry(token)).toBe(2_000_000_000_000)
  })
  test.each(['opaque', 'a.b', 'a.b.c', `${Buffer.from('[]').toString('base64url')}.e30.x`])(
    '%j is not a JWT',
    (token) => expect(decodeJwt(token)).toBeUndefined(),
  )
})

describe('token responses', () => {
  const now = 1_000_000
  test('lifetimes: expiresIn, then JWT exp, then the defaults', () => {
    expect(
      toTokenSet({ accessToken: 'a', refreshToken: 'r', expiresIn: 60, refreshExpiresIn: '120' }, 'h', now),
    ).toEqual({ accessToken: 'a', accessExpiresAt: now + 60_000, refreshToken: 'r', refreshExpiresAt: now + 120_000 })
    const access = jwt({ exp: 5000 })
    expect(
      toTokenSet(
        { accessToken: access, refreshToken: undefined, expiresIn: undefined, refreshExpiresIn: undefined },
        'h',
        now,
      ),
    ).toEqual({ accessToken: access, accessExpiresAt: 5_000_000 })
    expect(
      toTokenSet({ accessToken: 'a', refreshToken: 'r', expiresIn: 'soon', refreshExpiresIn: null }, 'h', now),
    ).toEqual({
      accessToken: 'a',
      accessExpiresAt: now + DEFAULT_ACCESS_TTL_MS,
      refreshToken: 'r',
      refreshExpiresAt: now + DEFAULT_REFRESH_TTL_MS,
    })
  })
  test('a lifetime that is not a finite number (1e400 parses as Infinity, or as many digits in a string) is refused (exit 5)', () => {
    for (const [expiresIn, refreshExpiresIn] of [
      [Infinity, 60],
      [60, Infinity],
      [-Infinity, 60],
      ['9'.repeat(400), 60],
    ]) {
      expect(() => toTokenSet({ accessToken: 'a', refreshToken: 'r', expiresIn, refreshExpiresIn }, 'h', now)).toThrow(
        expect.objectContaining({ exitCode: 5, message: expect.stringContaining('not a finite number of seconds') }),
      )
    }
    expect(
      toTokenSet({ accessToken: 'a', refreshToken: undefined, expiresIn: '0', refreshExpiresIn: undefined }, 'h', now),
    ).toEqual({ accessToken: 'a', accessExpiresAt: now })
  })
  test('no token, or a token outside b64token, is a server failure (exit 5)', () => {
    for (const accessToken of [undefined, '', 42, 'a\nb', "a'b", 'a"b', 'a;b', '$(id)', 'x'.repeat(16 * 1024 + 1)]) {
      expect(() =>
        toTokenSet({ accessToken, refreshToken: undefined, expiresIn: 1, refreshExpiresIn: 1 }, 'h', now),
      ).toThrow(expect.objectContaining({ exitCode: 5 }))
    }
    expect(() =>
      toTokenSet({ accessToken: 'ok', refreshToken: 'bad token', expiresIn: 1, refreshExpiresIn: 1 }, 'h', now),
    ).toThrow(expect.objectContaining({ exitCode: 5 }))
  })
  test('b64token', () => {
    expect(isSafeToken('abc-._~+/XYZ09==')).toBe(true)
    expect(isSafeToken('a=b')).toBe(false)
    expect(isSafeToken('x'.repeat(16 * 1024))).toBe(true)
  })
})

describe('token formats', () => {
  const input = {
    env: 'prod',
    accessToken: 'T0k.en',
    accessExpiresAt: Date.UTC(2030, 0, 1),
    variable: 'TOKENCTL_TOKEN',
    now: Date.UTC(2030, 0, 1) - 90_500,
  }
  test('exact lines', () => {
    expect(formatToken('token', input)).toBe('T0k.en\n')
    expect(formatToken('header', input)).toBe('Authorization: Bearer T0k.en\n')
    expect(formatToken('json', input)).toBe(
      '{"env":"prod","tokenType":"Bearer","token":"T0k.en","expiresAt":"2030-01-01T00:00:00Z","expiresIn":90}\n',
    )
    expect(formatToken('env', { ...input, variable: 'API' })).toBe("export API='T0k.en'\n")
    expect(formatToken('curl', input)).toBe('header = "Authorization: Bearer T0k.en"\n')
  })
  test('shell quoting and names', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'")
    expect(isShellVariable('API_TOKEN')).toBe(true)
    expect(isShellVariable('1X')).toBe(false)
    expect(isShellVariable('A-B')).toBe(false)
  })
})

describe('proxies', () => {
  const target = new URL('https://auth.example.com/token')
  test('HTTPS_PROXY for https, either case; NO_PROXY bypasses', () => {
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128' })).toBe('http://proxy:3128')
    expect(proxyFor(target, { https_proxy: 'http://p2:3128' })).toBe('http://p2:3128')
    expect(proxyFor(new URL('http://auth.example.com'), { HTTPS_PROXY: 'http://proxy:3128' })).toBeUndefined()
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' })).toBeUndefined()
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.example.com' })).toBeUndefined()
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' })).toBeUndefined()
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com:8443' })).toBe(
      'http://proxy:3128',
    )
    expect(proxyFor(target, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'other.com,notexample.com' })).toBe(
      'http://proxy:3128',
    )
  })
})

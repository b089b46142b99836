import { describeFailure, isRejection, parseEntry, REASONS } from '../../src/core/audit.js'
import {
  CredentialsRejectedError,
  InterruptedError,
  LoginRequiredError,
  ServerError,
  StoreUnavailableError,
  UsageError,
} from '../../src/base/errors.js'
import { RefreshRejectedError } from '../../src/protocols/types.js'
import { sanitize, viewToken } from '../../src/util/jwt.js'

const segment = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

describe('viewToken: what inspect may show of a token', () => {
  test('a JWT: header and claims, nothing of the signature', () => {
    const view = viewToken(
      `${segment({ alg: 'RS256', kid: 'k1' })}.${segment({ sub: 'alice', aud: ['a', 'b'], exp: 2 })}.c2lnbmF0dXJl`,
    )
    expect(view).toEqual({
      format: 'jwt',
      header: { alg: 'RS256', kid: 'k1' },
      claims: { sub: 'alice', aud: ['a', 'b'], exp: 2 },
    })
    expect(JSON.stringify(view)).not.toContain('c2lnbmF0dXJl')
  })

  test('a JWE: the header only', () => {
    expect(viewToken(`${segment({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`)).toEqual({
      format: 'jwe',
      header: { alg: 'RSA-OAEP', enc: 'A256GCM' },
    })
  })

  test.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['two parts', `${segment({ alg: 'x' })}.${segment({})}`],
    ['four parts', 'a.b.c.d'],
    ['not base64url', `${segment({ alg: 'x' })}.${segment({ sub: 'a' })}!.s`],
    ['not JSON', `${segment('not json')}.${segment({ sub: 'a' })}.s`],
    ['a JSON array header', `${segment([1])}.${segment({ sub: 'a' })}.s`],
    ['JSON null claims', `${segment({ alg: 'x' })}.${segment('null')}.s`],
    ['an empty header', `.${segment({ sub: 'a' })}.s`],
    ['too long', `${segment({ alg: 'x' })}.${segment({ pad: 'x'.repeat(20_000) })}.s`],
  ])('%s: opaque', (_name, token) => expect(viewToken(token)).toEqual({ format: 'opaque' }))

  test('never throws on junk (2000 random strings of token-ish characters)', () => {
    let seed = 42
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    const alphabet = 'eyJhbGciOi.-_=+/~0123456789ABCxyz{}":,\u0000\n'
    for (let i = 0; i < 2000; i++) {
      const token = Array.from(
        { length: Math.floor(random() * 80) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('')
      expect(() => viewToken(token)).not.toThrow()
    }
    expect(viewToken(undefined as unknown as string)).toEqual({ format: 'opaque' })
  })

  test('strings lose control and bidi characters, keys too; "__proto__" stays a plain key; deep nesting is cut', () => {
    const claims = JSON.parse(
      '{"__proto__": {"admin": true}, "a\\u202eb": "x\\u001b[31my\\u0085z\\u2066", "n": 1, "t": true, "z": null}',
    ) as unknown
    const clean = sanitize(claims) as Record<string, unknown>
    expect(clean).toEqual(JSON.parse('{"__proto__": {"admin": true}, "ab": "x[31myz", "n": 1, "t": true, "z": null}'))
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype)
    expect((clean as { admin?: unknown }).admin).toBeUndefined()
    let deep: unknown = 'bottom'
    for (let i = 0; i < 20; i++) deep = { d: deep }
    expect(JSON.stringify(sanitize(deep))).toBe(`${'{"d":'.repeat(8)}"…"${'}'.repeat(8)}`)
  })
})

describe('audit: reasons are fixed phrases, and only rejections count', () => {
  test.each([
    [new CredentialsRejectedError('server said: secret-ish text'), REASONS.credentialsRejected, 4],
    [new RefreshRejectedError('server said: secret-ish text'), REASONS.refreshRejected, 3],
    [new LoginRequiredError('x'), REASONS.loginRequired, 3],
    [new ServerError('x'), REASONS.server, 5],
    [new StoreUnavailableError('x'), REASONS.store, 6],
    [new UsageError('x'), REASONS.usage, 2],
    [new InterruptedError('x'), REASONS.interrupted, 130],
    [new TypeError('x'), REASONS.internal, 1],
    ['a string', REASONS.internal, 1],
  ])('%p → %s (exit %d)', (error, reason, exitCode) => {
    const described = describeFailure(error)
    expect(described).toMatchObject({ reason, exitCode })
    expect(JSON.stringify(described)).not.toContain('secret-ish')
  })

  test('an error whose name is not a class name is logged as "Error"', () => {
    const odd = new Error('x')
    odd.name = 'Bad name with spaces and a token abc.def'
    expect(describeFailure(odd).error).toBe('Error')
  })

  test('rejections: exit 4 or a rejected refresh token; not server failures, not successes', () => {
    const base = { time: new Date().toISOString(), env: 'e', event: 'login', pid: 1 }
    expect(isRejection({ ...base, outcome: 'failure', ...describeFailure(new CredentialsRejectedError('x')) })).toBe(
      true,
    )
    expect(
      isRejection({ ...base, event: 'refresh', outcome: 'failure', ...describeFailure(new RefreshRejectedError('x')) }),
    ).toBe(true)
    expect(isRejection({ ...base, outcome: 'failure', ...describeFailure(new ServerError('x')) })).toBe(false)
    expect(isRejection({ ...base, outcome: 'failure', ...describeFailure(new LoginRequiredError('x')) })).toBe(false)
    expect(isRejection({ ...base, outcome: 'ok' })).toBe(false)
  })

  test.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['no time', '{"env":"e","event":"login","outcome":"ok","pid":1}'],
    ['a bad time', '{"time":"yesterday","env":"e","event":"login","outcome":"ok","pid":1}'],
    ['a strange outcome', '{"time":"2026-01-01T00:00:00Z","env":"e","event":"login","outcome":"maybe","pid":1}'],
    ['no pid', '{"time":"2026-01-01T00:00:00Z","env":"e","event":"login","outcome":"ok"}'],
  ])('a line with %s is not an event', (_name, line) => expect(parseEntry(line)).toBeUndefined())
})

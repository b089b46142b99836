/* eslint-disable no-control-regex -- control characters are what these tests are about */
/**
 * Property tests (fast-check) for the parsers that take what others write — git's
 * credential requests, durations typed by people, token responses from servers, records
 * read from stores — and for the redaction that stands between every secret and stderr.
 * Each property is a rule the code must keep for every input, not for a few examples.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import fc from 'fast-check'

import { ServerError, UsageError } from '../../src/base/errors.js'
import { forgetSecrets, redactAll, rememberSecret } from '../../src/base/secrets.js'
import { formatToken } from '../../src/integrations/formats.js'
import { shellQuote } from '../../src/util/shell-quote.js'
import {
  type CredentialRequest,
  formatCredentialAnswer,
  parseCredentialRequest,
} from '../../src/integrations/git-credential.js'
import { toTokenSet } from '../../src/protocols/token-response.js'
import { judgeRecord } from '../../src/stores/types.js'
import { formatDuration, parseDuration } from '../../src/util/duration.js'
import { MASK, MIN_SECRET_LENGTH, redact } from '../../src/util/redact.js'

const B64TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/'.split('')

/** RFC 6750's rule written out again here, so that the tests do not take the code's word for it. */
const isB64Token = (token: string) => token.length <= 16 * 1024 && /^[A-Za-z0-9\-._~+/]+=*$/.test(token)

/** Tokens a well-behaved server sends: b64token characters, maybe trailing "=". */
const safeToken = fc
  .tuple(fc.string({ unit: fc.constantFrom(...B64TOKEN_CHARS), minLength: 1, maxLength: 300 }), fc.nat(3))
  .map(([body, pad]) => body + '='.repeat(pad))

/** Tokens a hostile or broken server sends: one character that can break a line, a quote or a header. */
const INJECTIONS = [
  '\n',
  '\r',
  "'",
  '"',
  ';',
  '$(id)',
  '`id`',
  ' ',
  '\t',
  '\u0000',
  '\\',
  '=x',
  '\u2028',
  'é',
  '<',
  '>',
  '|',
  '&',
  '#',
  '%',
]
const unsafeToken = fc
  .tuple(safeToken, fc.constantFrom(...INJECTIONS), safeToken)
  .map(([before, bad, after]) => before + bad + after)
  .filter((token) => !isB64Token(token))

/** Every JSON-ish value a server could put in a field. */
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  safeToken,
  fc.object(),
  fc.array(fc.string()),
)

describe('git credential parser', () => {
  const KEYS = ['protocol', 'host', 'path', 'username', 'password', 'credential'] as const
  /** What git can put in a value: anything but the line end and NUL. */
  const value = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((v) => !/[\n\r\u0000\uFFFD]/.test(v))
  const field = fc.tuple(fc.constantFrom(...KEYS), value)
  const unknownKey = fc
    .string({ minLength: 1, maxLength: 12 })
    .filter(
      (k) =>
        !/[=\n\r\u0000\uFFFD]/.test(k) &&
        !(KEYS as readonly string[]).includes(k) &&
        k !== 'url' &&
        k !== 'capability[]',
    )

  test('never throws: any bytes are a request or undefined', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
        ),
        (input) => {
          const request = parseCredentialRequest(input)
          expect(request === undefined || Array.isArray(request.capabilities)).toBe(true)
        },
      ),
    )
  })

  test('known keys come back as sent (the last one wins); unknown keys change nothing', () => {
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(unknownKey, value), { maxLength: 4 }),
        (fields, unknown) => {
          const expected: CredentialRequest = { capabilities: [] }
          for (const [key, v] of fields) expected[key] = v
          const lines = [...fields, ...unknown].map(([key, v]) => `${key}=${v}\n`)
          expect(parseCredentialRequest(`${lines.join('')}\n`)).toEqual(expected)
          // The same request without the unknown keys, and without the final blank line.
          expect(parseCredentialRequest(fields.map(([key, v]) => `${key}=${v}\n`).join(''))).toEqual(expected)
        },
      ),
    )
  })

  test('nothing after the blank line counts, whatever it is', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 4 }), fc.string(), (fields, rest) => {
        const head = fields.map(([key, v]) => `${key}=${v}\n`).join('')
        expect(parseCredentialRequest(`${head}\n${rest}`)).toEqual(parseCredentialRequest(`${head}\n`))
      }),
    )
  })

  test('an answer is always its own lines: parsing it back gives the user and token, and nothing else', () => {
    const userName = fc
      .string({ minLength: 1, maxLength: 30 })
      .filter((u) => !/[\u0000-\u001f\u007f=\uFFFD]/.test(u) && u.trim() === u)
    fc.assert(
      fc.property(
        safeToken,
        userName,
        fc.boolean(),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (token, username, authtype, expiresAt) => {
          const request: CredentialRequest = { capabilities: authtype ? ['authtype'] : [] }
          const answer = formatCredentialAnswer(request, { username, token, expiresAt })
          expect(answer.split('\n')).toHaveLength(authtype ? 6 : 4)
          const parsed = parseCredentialRequest(answer)!
          if (authtype) expect(parsed).toMatchObject({ credential: token, capabilities: ['authtype'] })
          else expect(parsed).toMatchObject({ username, password: token })
        },
      ),
    )
  })

  test('a user name with a line break is refused, never written into the answer', () => {
    fc.assert(
      fc.property(
        safeToken,
        fc.string(),
        fc.constantFrom('\n', '\r', '\u0000'),
        fc.string(),
        (token, before, bad, after) => {
          expect(() =>
            formatCredentialAnswer({ capabilities: [] }, { username: before + bad + after, token, expiresAt: 0 }),
          ).toThrow(UsageError)
        },
      ),
    )
  })
})

describe('duration parser (--min-ttl)', () => {
  const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

  test('never throws; every answer is undefined or a finite whole number of milliseconds', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^[0-9.smhd ]{0,30}$/), fc.stringMatching(/^\d{300,400}$/)),
        (text) => {
          const ms = parseDuration(text)
          if (ms !== undefined) {
            expect(Number.isFinite(ms)).toBe(true)
            expect(Number.isInteger(ms)).toBe(true)
            expect(ms).toBeGreaterThanOrEqual(0)
          }
        },
      ),
    )
  })

  test('a bare number is seconds; parts add up, in any order; blanks around are ignored', () => {
    fc.assert(fc.property(fc.nat(1_000_000), (seconds) => expect(parseDuration(` ${seconds} `)).toBe(seconds * 1000)))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(10_000), fc.constantFrom(...(Object.keys(UNIT_MS) as Array<keyof typeof UNIT_MS>))), {
          minLength: 1,
          maxLength: 5,
        }),
        (parts) => {
          const text = parts.map(([n, unit]) => `${n}${unit}`).join('')
          expect(parseDuration(text)).toBe(parts.reduce((sum, [n, unit]) => sum + n * UNIT_MS[unit], 0))
        },
      ),
    )
  })

  test('anything with a character no duration has is refused', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[0-9.smhd\s]/.test(c)),
        fc.string(),
        (before, bad, after) => {
          expect(parseDuration(`10m${before}${bad}${after}`)).toBeUndefined()
        },
      ),
    )
  })

  test('what formatDuration writes parses back, to within its rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 86_400_000 }), (ms) => {
        const back = parseDuration(formatDuration(ms))
        expect(back).toBeDefined()
        const grain = ms < 600_000 ? 1000 : ms < 86_400_000 ? 60_000 : 3_600_000
        expect(Math.abs(back! - ms)).toBeLessThanOrEqual(grain)
      }),
    )
  })
})

describe('token-response parser', () => {
  const NOW = 1_800_000_000_000
  const fields = fc.record({
    accessToken: anyValue,
    refreshToken: anyValue,
    expiresIn: anyValue,
    refreshExpiresIn: anyValue,
    user: anyValue,
  })

  /** Runs toTokenSet; anything thrown must be a ServerError (exit 5) that does not repeat a token. */
  function judge(input: Parameters<typeof toTokenSet>[0]) {
    try {
      return toTokenSet(input, 'auth.example.com', NOW)
    } catch (error) {
      expect(error).toBeInstanceOf(ServerError)
      const { message, fix } = error as ServerError
      for (const token of [input.accessToken, input.refreshToken]) {
        if (typeof token === 'string' && token.length >= MIN_SECRET_LENGTH)
          expect(`${message} ${fix}`).not.toContain(token)
      }
      return undefined
    }
  }

  test('never throws anything but a typed exit-5 error; an accepted set has only safe tokens and real times', () => {
    fc.assert(
      fc.property(fields, (input) => {
        const set = judge(input)
        if (!set) return
        expect(isB64Token(set.accessToken)).toBe(true)
        if (set.refreshToken !== undefined) expect(isB64Token(set.refreshToken)).toBe(true)
        for (const time of [set.accessExpiresAt, set.refreshExpiresAt]) {
          if (time === undefined) continue
          // -f json prints it as an ISO date: it must be one.
          expect(() => new Date(time).toISOString()).not.toThrow()
        }
        if (set.user !== undefined) expect(set.user).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
      }),
      { numRuns: 500 },
    )
  })

  test('never accepts an unsafe access or refresh token', () => {
    fc.assert(
      fc.property(unsafeToken, safeToken, fc.boolean(), (bad, good, badIsAccess) => {
        const input = {
          accessToken: badIsAccess ? bad : good,
          refreshToken: badIsAccess ? good : bad,
          expiresIn: 60,
          refreshExpiresIn: 600,
        }
        expect(judge(input)).toBeUndefined()
      }),
    )
  })

  test('never accepts a token over 16 KiB, however clean', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16 * 1024 + 1, max: 40 * 1024 }),
        fc.constantFrom(...B64TOKEN_CHARS),
        (length, c) => {
          expect(
            judge({
              accessToken: c.repeat(length),
              refreshToken: undefined,
              expiresIn: 60,
              refreshExpiresIn: undefined,
            }),
          ).toBeUndefined()
        },
      ),
      { numRuns: 20 },
    )
  })

  test('safe tokens are taken exactly as sent', () => {
    fc.assert(
      fc.property(safeToken, fc.option(safeToken, { nil: undefined }), (access, refresh) => {
        const set = judge({ accessToken: access, refreshToken: refresh, expiresIn: 60, refreshExpiresIn: 600 })!
        expect(set.accessToken).toBe(access)
        expect(set.refreshToken).toBe(refresh)
        expect(set.accessExpiresAt).toBe(NOW + 60_000)
      }),
    )
  })

  test('a stored record is held to the same rule: an unsafe token makes it unusable', () => {
    fc.assert(
      fc.property(unsafeToken, fc.constantFrom('accessToken', 'refreshToken'), (bad, key) => {
        expect(judgeRecord({ [key]: bad })).toHaveProperty('problem')
      }),
    )
    fc.assert(
      fc.property(safeToken, safeToken, (access, refresh) => {
        expect(judgeRecord({ accessToken: access, refreshToken: refresh, accessExpiresAt: 1, user: 'alice' })).toEqual({
          record: { accessToken: access, refreshToken: refresh, accessExpiresAt: 1, user: 'alice' },
        })
      }),
    )
  })
})

describe('redaction', () => {
  const secret = fc.string({ minLength: MIN_SECRET_LENGTH, maxLength: 24 })
  /** Text made of secrets and filler, in any order, so secrets sit side by side and inside each other's neighbourhood. */
  const textWith = (secrets: string[]) =>
    fc
      .array(fc.oneof(fc.constantFrom(...secrets), fc.string({ maxLength: 8 })), { maxLength: 12 })
      .map((parts) => parts.join(''))

  test('no secret survives, in any mix of secrets and text', () => {
    fc.assert(
      fc.property(
        fc
          .array(secret, { minLength: 1, maxLength: 5 })
          .chain((secrets) => fc.tuple(fc.constant(secrets), textWith(secrets))),
        ([secrets, text]) => {
          const out = redact(text, secrets)
          for (const s of secrets) expect(out).not.toContain(s)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('overlapping and adjacent secrets: none survives, not even in part of the overlap', () => {
    // Secrets cut from one string so that they overlap, nest and touch.
    const overlapping = fc
      .tuple(
        fc.string({ minLength: 8, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: MIN_SECRET_LENGTH, max: 16 })), { minLength: 2, maxLength: 6 }),
      )
      .map(([base, cuts]) => ({
        base,
        secrets: cuts
          .map(([start, length]) => base.slice(start % base.length, (start % base.length) + length))
          .filter((s) => s.length >= MIN_SECRET_LENGTH),
      }))
      .filter(({ secrets }) => secrets.length > 0)
    fc.assert(
      fc.property(
        overlapping,
        fc.string({ maxLength: 6 }),
        fc.string({ maxLength: 6 }),
        ({ base, secrets }, before, after) => {
          const out = redact(before + base + base + after, secrets)
          for (const s of secrets) expect(out).not.toContain(s)
        },
      ),
      { numRuns: 500 },
    )
    expect(redact('abcdefgh', ['abcdef', 'defgh'])).toBe(MASK)
    expect(redact('xx-abcd1234-yy', ['abcd', '1234'])).toBe(`xx-${MASK}-yy`)
  })

  test('a secret that contains the mask is not rebuilt by masking its neighbour', () => {
    expect(redact('xab***', ['x***', 'ab**'])).not.toMatch(/x\*\*\*|ab\*\*/)
    fc.assert(
      fc.property(fc.string({ maxLength: 3 }), secret, (prefix, other) => {
        const tricky = `${prefix}${MASK}`.padEnd(MIN_SECRET_LENGTH, '*')
        const out = redact(`${prefix}${other}`, [tricky, other])
        expect(out).not.toContain(other)
        expect(out).not.toContain(tricky)
      }),
    )
  })

  test('text without secrets comes back unchanged; redacting twice changes nothing more', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(secret, { maxLength: 5 }), (text, secrets) => {
        const absent = secrets.filter((s) => !text.includes(s))
        expect(redact(text, absent)).toBe(text)
        const once = redact(text, secrets)
        expect(redact(once, secrets)).toBe(once)
      }),
    )
  })

  test('the registry masks what it was told, also inside JSON strings and URL-encoded', () => {
    fc.assert(
      fc.property(secret, fc.string(), (s, text) => {
        forgetSecrets()
        rememberSecret(s)
        const message = `${text}${s} ${JSON.stringify({ s })} ${encodeURIComponent(s)} ${new URLSearchParams({ s })}`
        const out = redactAll(message)
        expect(out).not.toContain(s)
        expect(out).not.toContain(JSON.stringify(s).slice(1, -1))
        expect(out).not.toContain(encodeURIComponent(s))
      }),
    )
    forgetSecrets()
  })

  test('…and in base64 and base64url, padded or not, alone or anywhere inside a longer encoded text', () => {
    /** Whether three bytes of the secret in a row can be read back from `text`, at any base64 alignment. */
    const readable = (text: string, bytes: Buffer) => {
      for (let skip = 0; skip < 4; skip++) {
        const decoded = Buffer.from(text.slice(skip).replace(/-/g, '+').replace(/_/g, '/'), 'base64')
        for (let at = 0; at + 3 <= bytes.length; at++) if (decoded.includes(bytes.subarray(at, at + 3))) return true
      }
      return false
    }
    fc.assert(
      fc.property(secret, fc.uint8Array({ maxLength: 7 }), fc.uint8Array({ maxLength: 7 }), (s, before, after) => {
        forgetSecrets()
        rememberSecret(s)
        const bytes = Buffer.from(s)
        for (const encoding of ['base64', 'base64url'] as const) {
          const padded =
            encoding === 'base64'
              ? bytes.toString('base64')
              : bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
          for (const text of [padded, padded.replace(/=+$/, '')]) {
            expect(redactAll(`<${text}>`)).toBe('<***>')
          }
          const inside = Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]).toString(encoding)
          const out = redactAll(inside)
          expect(out).toContain('***')
          for (const part of out.split('***')) expect(readable(part, bytes)).toBe(false)
        }
      }),
    )
    forgetSecrets()
  })
})

describe('-f env is quoted for POSIX shells, whatever the token', () => {
  test('sh reads back exactly what was quoted, and runs none of it', () => {
    // The shell runs in a throwaway dir with a throwaway HOME, and the payloads only ever
    // create a marker file there: if quoting breaks, the test fails on the marker, and
    // nothing outside the dir can be touched. (Never put a destructive command in a payload.)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-quote-'))
    try {
      const values = fc.sample(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => !v.includes('\u0000')),
        200,
      )
      values.push(
        "'",
        "''",
        "a'b",
        '$(touch pwned)',
        '`touch pwned`',
        '\n',
        '"; touch pwned; "',
        "'; touch pwned; '",
        '\\',
        '!',
        '*',
        '$HOME',
      )
      const script = values
        .map(
          (v) =>
            `${formatToken('env', { env: 'e', accessToken: v, accessExpiresAt: 0, variable: 'X' }).trimEnd()}; printf '%s\\0' "$X"`,
        )
        .join('\n')
      // As root, the shell runs as nobody: broken quoting then cannot reach anything of root's.
      const asNobody = process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv')
      if (asNobody) fs.chownSync(dir, 65534, 65534)
      const [file, args] = asNobody
        ? ['/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script]]
        : ['sh', ['-c', script]]
      const out = execFileSync(file, args, {
        encoding: 'utf8',
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      })
      expect(out.split('\u0000').slice(0, -1)).toEqual(values)
      expect(fs.readdirSync(dir)).toEqual([])
      expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

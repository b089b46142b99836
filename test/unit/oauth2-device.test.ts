/**
 * The device flow's own rules (RFC 8628), in-process: what of the provider's device
 * authorization answer is taken and how it is held to bounds, and when the polling waits,
 * asks again, slows down or stops, on a fake clock.
 */
import {
  ExitCode,
  InterruptedError,
  LoginRequiredError,
  ServerError,
  type TokenctlError,
} from '../../src/base/errors.js'
import { redactAll } from '../../src/base/secrets.js'
import type { HttpResponse } from '../../src/protocols/http.js'
import {
  type DeviceGrant,
  deviceGrantOf,
  type DevicePolling,
  pollForTokens,
  sleep,
} from '../../src/protocols/oauth2-device.js'
import type { OAuthError } from '../../src/protocols/oauth2-errors.js'
import type { TokenSet } from '../../src/protocols/types.js'

const NOW = 1_700_000_000_000
const answer = (body: Record<string, unknown>, status = 200): HttpResponse => ({
  status,
  json: body,
  text: JSON.stringify(body),
  contentType: 'application/json',
})
const complete = {
  device_code: 'device-code-0123456789',
  user_code: 'WDJB-MJHT',
  verification_uri: 'https://id.example.com/device',
}
const grantOf = (body: Record<string, unknown>, status = 200) =>
  deviceGrantOf(answer(body, status), NOW, { host: 'id.example.com', sent: [] })

function thrown(act: () => unknown): TokenctlError {
  try {
    act()
  } catch (error) {
    return error as TokenctlError
  }
  throw new Error('nothing was thrown')
}

describe('the device authorization answer, held to what can be shown and polled for', () => {
  test("a minimal answer: RFC 8628's defaults of 5 s between polls and 600 s to approve", () => {
    expect(grantOf(complete)).toEqual({
      shown: {
        verificationUri: 'https://id.example.com/device',
        verificationUriComplete: undefined,
        userCode: 'WDJB-MJHT',
        expiresAt: NOW + 600_000,
      },
      deviceCode: 'device-code-0123456789',
      intervalMs: 5000,
    })
  })

  test('the device code buys tokens: it is a secret from the moment it is read', () => {
    grantOf({ ...complete, device_code: 'a-device-code-nobody-may-see' })
    expect(redactAll('code a-device-code-nobody-may-see')).toBe('code ***')
  })

  test.each<[string, unknown, number]>([
    ['seconds as digits in a string', '7', 7000],
    ['under a second, taken as one', 0.2, 1000],
    ['over a minute, taken as one', 3600, 60_000],
    ['zero, the default', 0, 5000],
    ['negative, the default', -3, 5000],
    ['not a number, the default', 'soon', 5000],
  ])('interval %s', (_what, interval, intervalMs) => {
    expect(grantOf({ ...complete, interval }).intervalMs).toBe(intervalMs)
  })

  test.each<[string, unknown, number]>([
    ['as given', 120, 120_000],
    ['as digits in a string', '900', 900_000],
    ['no longer than 30 minutes', 7200, 30 * 60_000],
    ['absent, the default', undefined, 600_000],
  ])('expires_in %s', (_what, expires, ms) => {
    expect(grantOf({ ...complete, expires_in: expires }).shown.expiresAt).toBe(NOW + ms)
  })

  test.each(['expires_in', 'interval'])('%s that JSON read as Infinity (1e400) is refused, exit 5', (field) => {
    const error = thrown(() => grantOf({ ...complete, [field]: Infinity }))
    expect(error).toBeInstanceOf(ServerError)
    expect(error.message).toBe(
      `id.example.com sent a device authorization answer whose ${field} is not a finite number; nothing was stored.`,
    )
  })

  test("Google's verification_url stands in for verification_uri", () => {
    const { verification_uri: uri, ...rest } = complete
    expect(grantOf({ ...rest, verification_url: uri }).shown.verificationUri).toBe('https://id.example.com/device')
  })

  test('the URLs are shown as the URL parser reads them, and a complete URL that is no web page is left out', () => {
    const grant = grantOf({
      ...complete,
      verification_uri: 'https://id.example.com/dev ice',
      verification_uri_complete: 'javascript:alert(1)',
    })
    expect(grant.shown.verificationUri).toBe('https://id.example.com/dev%20ice')
    expect(grant.shown.verificationUriComplete).toBeUndefined()
    expect(
      grantOf({ ...complete, verification_uri_complete: 'https://id.example.com/device?user_code=WDJB-MJHT' }).shown
        .verificationUriComplete,
    ).toBe('https://id.example.com/device?user_code=WDJB-MJHT')
  })

  test.each<[string, Record<string, unknown>]>([
    ['no device code', { ...complete, device_code: '' }],
    ['no user code', { ...complete, user_code: undefined }],
    ['no verification URI', { ...complete, verification_uri: undefined }],
    ['a verification URI that is no web page', { ...complete, verification_uri: 'file:///etc/passwd' }],
  ])('%s: an answer tokenctl cannot use, exit 5', (_what, body) => {
    const error = thrown(() => grantOf(body))
    expect(error.exitCode).toBe(ExitCode.server)
    expect(error.message).toBe('id.example.com sent a device authorization answer tokenctl cannot use.')
  })

  test('an answer that is not a 200 is a failure of the server, told with its host', () => {
    const error = thrown(() => grantOf({ message: 'down' }, 503))
    expect(error).toBeInstanceOf(ServerError)
    expect(error.message).toBe('id.example.com failed with HTTP 503: "down".')
  })
})

describe('polling: wait, ask, and stop only on tokens, a refusal or the code running out', () => {
  const tokens: TokenSet = { accessToken: 'access', accessExpiresAt: NOW + 3_600_000 }
  const grant = (intervalMs = 5000, lifetimeMs = 600_000): DeviceGrant => ({
    shown: { verificationUri: 'https://id.example.com/device', userCode: 'WDJB-MJHT', expiresAt: NOW + lifetimeMs },
    deviceCode: 'device-code-0123456789',
    intervalMs,
  })

  /** The provider answers the polls in this order; the clock moves only by the waits. */
  function provider(answers: Array<OAuthError | 'tokens'>) {
    const events: string[] = []
    let now = NOW
    const polling: DevicePolling = {
      poll: async () => {
        events.push('poll')
        const next = answers.shift()
        if (next === undefined) throw new Error('polled once more than the test expected')
        return next === 'tokens' ? { tokens } : { error: next }
      },
      refused: (error) => new LoginRequiredError(`refused: ${error.code}`),
      sleep: async (ms) => {
        events.push(`wait ${ms}`)
        now += ms
      },
      now: () => now,
    }
    return { polling, events }
  }

  const pending = { code: 'authorization_pending' }
  const slowDown = { code: 'slow_down' }

  test('the interval is waited before every poll, the first one too; pending means ask again', async () => {
    const { polling, events } = provider([pending, pending, 'tokens'])
    await expect(pollForTokens(grant(), polling)).resolves.toBe(tokens)
    expect(events).toEqual(['wait 5000', 'poll', 'wait 5000', 'poll', 'wait 5000', 'poll'])
  })

  test('slow_down adds 5 s for that poll and every later one', async () => {
    const { polling, events } = provider([slowDown, pending, slowDown, 'tokens'])
    await pollForTokens(grant(), polling)
    expect(events.filter((event) => event.startsWith('wait'))).toEqual([
      'wait 5000',
      'wait 10000',
      'wait 10000',
      'wait 15000',
    ])
  })

  test('slow_down never takes the interval past a minute', async () => {
    const { polling, events } = provider([slowDown, slowDown, 'tokens'])
    await pollForTokens(grant(58_000), polling)
    expect(events.filter((event) => event.startsWith('wait'))).toEqual(['wait 58000', 'wait 60000', 'wait 60000'])
  })

  test.each(['access_denied', 'expired_token', 'invalid_grant', 'invalid_client'])(
    '%s ends the polling, told as the provider said it',
    async (code) => {
      const { polling, events } = provider([pending, { code, description: 'no' }])
      await expect(pollForTokens(grant(), polling)).rejects.toThrow(`refused: ${code}`)
      expect(events.filter((event) => event === 'poll')).toHaveLength(2)
    },
  )

  test('a code that runs out while pending ends as expired_token, after the poll that was due', async () => {
    const { polling, events } = provider([pending, pending, pending])
    await expect(pollForTokens(grant(5000, 12_000), polling)).rejects.toThrow('refused: expired_token')
    expect(events).toEqual(['wait 5000', 'poll', 'wait 5000', 'poll', 'wait 5000', 'poll'])
  })

  test('a code already run out is not polled for', async () => {
    const { polling, events } = provider([])
    await expect(pollForTokens(grant(5000, 0), polling)).rejects.toThrow('refused: expired_token')
    expect(events).toEqual([])
  })
})

describe('the wait between polls ends at once on Ctrl-C', () => {
  test('a signal already aborted: interrupted, exit 130', async () => {
    const controller = new AbortController()
    controller.abort()
    const error = await sleep(60_000, controller.signal).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).message).toBe('The login was stopped; nothing was stored.')
  })

  test('aborted while waiting: interrupted, not left to the end of the wait', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    setTimeout(() => controller.abort(), 10)
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError)
  })

  test('without a signal it just waits', async () => {
    await expect(sleep(5)).resolves.toBeUndefined()
  })
})

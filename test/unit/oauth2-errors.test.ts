/**
 * What a provider's OAuth error answer becomes (docs/design.md#oauth-20-and-openid-connect):
 * which answers count as the provider's word at all, and the exit code, message and fix
 * each error code gets for each exchange.
 */
import { ExitCode, type TokenctlError } from '../../src/base/errors.js'
import { rememberSecret } from '../../src/base/secrets.js'
import type { HttpResponse } from '../../src/protocols/http.js'
import { type Exchange, mapOAuthError, oauthErrorOf, type RefusedRequest } from '../../src/protocols/oauth2-errors.js'
import { RefreshRejectedError } from '../../src/protocols/types.js'

const answer = (status: number, json: unknown, contentType = 'application/json'): HttpResponse => ({
  status,
  json,
  text: json === undefined ? '<html>no</html>' : JSON.stringify(json),
  contentType,
})

describe('only a 4xx with a JSON object carrying an error code is the provider refusing', () => {
  test.each([
    [
      '400 with error and description',
      answer(400, { error: 'invalid_grant', error_description: 'gone' }),
      { code: 'invalid_grant', description: 'gone' },
    ],
    [
      '401 labelled text/plain',
      answer(401, { error: 'invalid_client' }, 'text/plain'),
      { code: 'invalid_client', description: undefined },
    ],
    [
      'a description that is not a string is dropped',
      answer(400, { error: 'invalid_grant', error_description: 7 }),
      { code: 'invalid_grant', description: undefined },
    ],
  ])('%s', (_what, response, expected) => {
    expect(oauthErrorOf(response)).toEqual(expected)
  })

  test.each([
    ['a proxy page', answer(403, undefined, 'text/html')],
    ["a gateway's JSON without an error code", answer(403, { message: 'Forbidden' })],
    ['an empty error code', answer(400, { error: '' })],
    ['an error code that is not a string', answer(400, { error: 42 })],
    ['a JSON array', answer(400, [{ error: 'invalid_grant' }])],
    ['a 5xx, whatever it says', answer(503, { error: 'invalid_grant' })],
    ['a 200, whatever it says', answer(200, { error: 'invalid_grant' })],
    ['a redirect', answer(302, { error: 'invalid_grant' })],
  ])('not %s', (_what, response) => {
    expect(oauthErrorOf(response)).toBeUndefined()
  })
})

describe('each error code, for each exchange, becomes one typed error with its fix', () => {
  const request: RefusedRequest = {
    envName: 'corp',
    clientId: 'cli',
    hasSecret: false,
    scope: 'openid offline_access',
    host: () => 'id.example.com',
    sent: [],
  }
  const map = (code: string, exchange: Exchange, overrides: Partial<RefusedRequest> = {}): TokenctlError =>
    mapOAuthError({ code }, exchange, { ...request, ...overrides })

  test.each<[string, Exchange, number, string, string]>([
    [
      'invalid_grant',
      'refresh',
      ExitCode.loginRequired,
      'id.example.com no longer accepts the refresh token of "corp": invalid_grant.',
      'Run: tokenctl login -e corp',
    ],
    [
      'invalid_grant',
      'password',
      ExitCode.rejected,
      'id.example.com rejected the user name or password for "corp": invalid_grant.',
      'Check them and run: tokenctl login -e corp',
    ],
    [
      'invalid_grant',
      'device',
      ExitCode.rejected,
      'id.example.com refused the device code of "corp": invalid_grant.',
      'Run: tokenctl login -e corp once more.',
    ],
    [
      'invalid_grant',
      'code',
      ExitCode.rejected,
      'id.example.com refused the authorization code of "corp": invalid_grant.',
      'Run: tokenctl login -e corp once more.',
    ],
    [
      'access_denied',
      'device',
      ExitCode.rejected,
      'The login to "corp" was denied: access_denied.',
      'Run: tokenctl login -e corp, and approve the request.',
    ],
    [
      'expired_token',
      'device',
      ExitCode.loginRequired,
      'The device code for "corp" expired before the login was approved; nothing was stored.',
      'Run: tokenctl login -e corp again, and approve it in time.',
    ],
    [
      'invalid_scope',
      'password',
      ExitCode.usage,
      'id.example.com refused the scope "openid offline_access": invalid_scope.',
      'Change it: tokenctl env add corp … --scope "SCOPES" --force',
    ],
    [
      'unsupported_grant_type',
      'password',
      ExitCode.usage,
      'id.example.com does not allow the password login for this client: unsupported_grant_type.',
      'Pick another flow with --flow (device, browser, password, client-credentials).',
    ],
    [
      'unsupported_grant_type',
      'refresh',
      ExitCode.usage,
      'id.example.com does not allow the refresh token for this client: unsupported_grant_type.',
      'Run: tokenctl login -e corp.',
    ],
    [
      'invalid_request',
      'client-credentials',
      ExitCode.usage,
      'id.example.com refused the request of "corp": invalid_request.',
      'Check the env\'s settings ("tokenctl env show corp").',
    ],
    [
      'temporarily_unavailable',
      'client-credentials',
      ExitCode.server,
      'id.example.com refused the client-credentials grant of "corp": temporarily_unavailable.',
      'Try again later; if it persists, report it to whoever runs the server.',
    ],
  ])('%s on %s: exit %d', (code, exchange, exitCode, message, fix) => {
    const error = map(code, exchange)
    expect({ exitCode: error.exitCode, message: error.message, fix: error.fix }).toEqual({ exitCode, message, fix })
  })

  test('only a refused refresh token is a RefreshRejectedError, the one the session may answer with a new login', () => {
    expect(map('invalid_grant', 'refresh')).toBeInstanceOf(RefreshRejectedError)
    for (const exchange of ['password', 'client-credentials', 'code', 'device'] as const)
      expect(map('invalid_grant', exchange)).not.toBeInstanceOf(RefreshRejectedError)
  })

  test.each(['invalid_client', 'unauthorized_client'])(
    '%s: exit 4, and the fix names the secret only as far as one was sent',
    (code) => {
      const without = map(code, 'password')
      expect(without.exitCode).toBe(ExitCode.rejected)
      expect(without.message).toBe(`id.example.com did not accept the client "cli" of "corp": ${code}.`)
      expect(without.fix).toMatch(/^Check --client-id; a confidential client also needs its secret/)
      expect(map(code, 'password', { hasSecret: true }).fix).toBe(
        'Check the client id and secret (TOKENCTL_CLIENT_SECRET, or log in again on a terminal to type it).',
      )
    },
  )

  test("the provider's description is quoted, without what the request carried, and cut short", () => {
    const password = 'hunter2-correct-horse'
    rememberSecret('a-remembered-refresh-token')
    const error = mapOAuthError(
      {
        code: 'invalid_grant',
        description: `bad password ${password} for a-remembered-refresh-token ${'x'.repeat(300)}`,
      },
      'password',
      { ...request, sent: [password] },
    )
    expect(error.message).toMatch(
      /^id\.example\.com rejected the user name or password for "corp": invalid_grant \("bad password \*\*\* for \*\*\* x+…"\)\.$/,
    )
    expect(error.message).not.toContain(password)
    expect(error.message.length).toBeLessThan(300)
  })

  test('the host is asked for only by the messages that name it', () => {
    // An endpoint kept in a hand-edited config may be no URL at all: a message that names no
    // host must not fail on reading it.
    let asked = 0
    const host = () => {
      asked++
      return 'id.example.com'
    }
    map('expired_token', 'device', { host })
    map('access_denied', 'code', { host })
    expect(asked).toBe(0)
    map('invalid_grant', 'code', { host })
    expect(asked).toBe(1)
  })

  test('an error code with control characters is printed harmless', () => {
    expect(map('weird\u001b[2Jcode', 'refresh').message).not.toContain('\u001b')
  })
})

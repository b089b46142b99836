/**
 * A token endpoint's answer (RFC 6749 §5.1) read in-process: only Bearer tokens are taken,
 * and who is logged in comes from the ID token, a JWT access token or the client.
 */
import { ServerError } from '../../src/base/errors.js'
import { redactAll } from '../../src/base/secrets.js'
import type { HttpResponse } from '../../src/protocols/http.js'
import type { Exchange } from '../../src/protocols/oauth2-errors.js'
import { tokensOf, userOf } from '../../src/protocols/oauth2-tokens.js'

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
const answer = (body: unknown, status = 200): HttpResponse => ({
  status,
  json: body,
  text: JSON.stringify(body),
  contentType: 'application/json',
})
const request = { host: 'id.example.com', clientId: 'svc', sent: [] }

function refusal(response: HttpResponse): ServerError {
  try {
    tokensOf(response, 'password', request)
  } catch (error) {
    return error as ServerError
  }
  throw new Error('the answer was taken')
}

describe('only Bearer tokens are taken', () => {
  test('token_type is read without regard to case', () => {
    const tokens = tokensOf(
      answer({ access_token: 'an-access-token', token_type: 'BEARER', expires_in: 60 }),
      'password',
      request,
    )
    expect(tokens.accessToken).toBe('an-access-token')
  })

  test.each<[string, unknown, string]>([
    ['none', undefined, 'a token without a token_type'],
    ['another kind', 'DPoP', 'a "DPoP" token'],
    ['not a string', 1, 'a token_type that is not a string'],
  ])('token_type %s: refused, exit 5, and the tokens in it are secrets all the same', (_what, tokenType, said) => {
    const error = refusal(
      answer({ access_token: 'refused-access-token', refresh_token: 'refused-refresh-token', token_type: tokenType }),
    )
    expect(error).toBeInstanceOf(ServerError)
    expect(error.message).toBe(
      `id.example.com issued ${said}, which tokenctl cannot send as a bearer token; nothing was stored.`,
    )
    expect(redactAll('refused-access-token refused-refresh-token')).toBe('*** ***')
  })

  test('the ID token is a secret the process holds (kept or not: test/unit/id-token.test.ts)', () => {
    const idToken = jwt({ sub: 'someone-whose-id-token-this-is' })
    tokensOf(answer({ access_token: 'an-access-token', token_type: 'Bearer', id_token: idToken }), 'password', request)
    expect(redactAll(`id ${idToken}`)).toBe('id ***')
  })

  test('an answer that is not a 200 JSON object is a failure of the server', () => {
    expect(refusal(answer({ message: 'no' }, 502)).message).toBe('id.example.com failed with HTTP 502: "no".')
    expect(refusal(answer(['Bearer'])).message).toMatch(/^id\.example\.com sent a JSON value that is not an object/)
  })
})

describe('who is logged in', () => {
  const id = jwt({ preferred_username: 'alice', email: 'alice@example.test', sub: 'a1' })
  const access = jwt({ email: 'bob@example.test', sub: 'b2' })

  test.each<[string, Record<string, unknown>, Exchange, string | undefined]>([
    ["the ID token's preferred_username first", { id_token: id, access_token: access }, 'password', 'alice'],
    ['then its email', { id_token: jwt({ email: 'carol@example.test', sub: 'c3' }) }, 'device', 'carol@example.test'],
    ['then its sub', { id_token: jwt({ sub: 'd4', preferred_username: '' }) }, 'code', 'd4'],
    ['without an ID token, a JWT access token', { access_token: access }, 'password', 'bob@example.test'],
    [
      'but not on refresh: the name from the ID token at login is the better one',
      { access_token: access },
      'refresh',
      undefined,
    ],
    ['for client credentials without claims, the client', { access_token: 'opaque' }, 'client-credentials', 'svc'],
    ['for a person without claims, nobody named', { access_token: 'opaque' }, 'password', undefined],
  ])('%s', (_what, body, exchange, user) => {
    expect(userOf(body, exchange, 'svc')).toBe(user)
  })
})

/**
 * Revocation (RFC 7009), in-process against a scripted endpoint: which tokens are sent in
 * which order, and which refusals end it.
 */
import { ServerError } from '../../src/base/errors.js'
import type { HttpResponse } from '../../src/protocols/http.js'
import type { OAuthError } from '../../src/protocols/oauth2-errors.js'
import { type Revocation, revokeTokens } from '../../src/protocols/oauth2-revocation.js'

const ok: HttpResponse = { status: 200, json: undefined, text: '', contentType: '' }
const oauthError = (error: string, status = 400): HttpResponse => ({
  status,
  json: { error },
  text: JSON.stringify({ error }),
  contentType: 'application/json',
})

/** The endpoint answers the requests in this order; every request and every refusal is noted. */
function endpoint(answers: HttpResponse[]) {
  const sent: Array<Record<string, string>> = []
  const refusals: Array<{ status: number; error: OAuthError | undefined; token: string }> = []
  const revocation: Revocation = {
    post: async (form) => {
      sent.push(form)
      const next = answers.shift()
      if (!next) throw new Error('one request more than the test expected')
      return next
    },
    refused: (response, error, token) => {
      refusals.push({ status: response.status, error, token })
      return new ServerError('refused')
    },
  }
  return { revocation, sent, refusals }
}

test('the refresh token first (it takes the grant with it at most servers), then the access token', async () => {
  const { revocation, sent } = endpoint([ok, ok])
  await revokeTokens({ accessToken: 'the-access', refreshToken: 'the-refresh' }, revocation)
  expect(sent).toEqual([
    { token: 'the-refresh', token_type_hint: 'refresh_token' },
    { token: 'the-access', token_type_hint: 'access_token' },
  ])
})

test('a token not held is not sent', async () => {
  const { revocation, sent } = endpoint([ok])
  await revokeTokens({ accessToken: 'the-access' }, revocation)
  expect(sent).toEqual([{ token: 'the-access', token_type_hint: 'access_token' }])
})

test('a server that declines to revoke access tokens (unsupported_token_type) is let be: they expire soon anyway', async () => {
  const { revocation, refusals } = endpoint([ok, oauthError('unsupported_token_type')])
  await expect(
    revokeTokens({ accessToken: 'the-access', refreshToken: 'the-refresh' }, revocation),
  ).resolves.toBeUndefined()
  expect(refusals).toEqual([])
})

test('unsupported_token_type for the refresh token is a refusal: the grant would live on', async () => {
  const { revocation, sent, refusals } = endpoint([oauthError('unsupported_token_type')])
  await expect(revokeTokens({ accessToken: 'the-access', refreshToken: 'the-refresh' }, revocation)).rejects.toThrow(
    'refused',
  )
  expect(refusals).toEqual([
    { status: 400, error: { code: 'unsupported_token_type', description: undefined }, token: 'the-refresh' },
  ])
  expect(sent).toHaveLength(1)
})

test('an answer that is no OAuth error is refused without one, naming the token that failed', async () => {
  const { revocation, refusals } = endpoint([
    ok,
    { status: 503, json: undefined, text: 'down', contentType: 'text/plain' },
  ])
  await expect(revokeTokens({ accessToken: 'the-access', refreshToken: 'the-refresh' }, revocation)).rejects.toThrow(
    'refused',
  )
  expect(refusals).toEqual([{ status: 503, error: undefined, token: 'the-access' }])
})

test('any 2xx is a success', async () => {
  const { revocation } = endpoint([{ ...ok, status: 204 }])
  await expect(revokeTokens({ refreshToken: 'the-refresh' }, revocation)).resolves.toBeUndefined()
})

import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { apiProtocol } from '../../src/protocols/api.js'
import { redact } from '../../src/util/redact.js'

// A server that repeats what it was sent in its error message must not make us repeat it.
test('a server message that echoes the password or refresh token is shown without it', async () => {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () =>
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'bad_request', message: `bad request ${body}` })),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    const api = apiProtocol({ name: 'prod', protocol: 'api', url }, { environ: {}, userAgent: 'test' })
    const login = await api
      .login({ flow: 'password', credentials: { username: 'alice', password: 's3cret-pass' } })
      .catch((e: Error) => e)
    expect(login).toMatchObject({ exitCode: 4 })
    expect((login as Error).message).toContain('bad request')
    expect((login as Error).message).not.toContain('s3cret-pass')
    const refresh = await api.refresh('refresh-token-value').catch((e: Error) => e)
    expect(refresh).toMatchObject({ exitCode: 3 })
    expect((refresh as Error).message).not.toContain('refresh-token-value')
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

test('redact: every known secret, longest first; short values left alone', () => {
  expect(redact('a abcdef abcdefgh b', ['abcdef', 'abcdefgh', 'a', undefined])).toBe('a *** *** b')
})

/**
 * Only the server's own word rejects: a 400/401/403 is "credentials rejected" (4) or
 * "refresh token rejected" (3) only with the api's JSON error object; a proxy's or
 * firewall's page with the same status is a server failure (5), which deletes nothing.
 */
describe('which 400/401/403 answers are the server rejecting the credentials', () => {
  let answer: { status: number; contentType: string; body: string }
  let server: http.Server
  let url: string
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  async function outcome(
    status: number,
    contentType: string,
    body: string,
  ): Promise<{ login: unknown; refresh: unknown }> {
    answer = { status, contentType, body }
    const api = apiProtocol({ name: 'prod', protocol: 'api', url }, { environ: {}, userAgent: 'test' })
    const login = await api
      .login({ flow: 'password', credentials: { username: 'alice', password: 'pw-12345' } })
      .catch((e: { exitCode?: number }) => e.exitCode)
    const refresh = await api
      .refresh('refresh-token-value')
      .catch((e: { exitCode?: number; constructor: { name: string } }) => `${e.exitCode} ${e.constructor.name}`)
    return { login, refresh }
  }

  test.each([
    [401, 'application/json', '{"error":"invalid_credentials","message":"Invalid username or password"}'],
    [400, 'application/json; charset=utf-8', '{"error":"bad_password"}'],
    [403, 'application/problem+json', '{"error":{"code":"forbidden","message":"account locked"}}'],
  ])('%s %s %s: rejected (login 4, refresh 3)', async (status, contentType, body) => {
    expect(await outcome(status, contentType, body)).toEqual({ login: 4, refresh: '3 RefreshRejectedError' })
  })

  test.each([
    [
      403,
      'text/html; charset=utf-8',
      '<html><body><h1>403 Forbidden</h1>Request blocked by the firewall</body></html>',
    ],
    [401, 'text/html', '<html><body>Proxy authentication required</body></html>'],
    [400, 'text/plain', 'Bad Request'],
    [401, 'text/plain', '{"error":"invalid_grant"}'],
    [403, '', '{"error":"invalid_grant"}'],
    [403, 'application/json', '{}'],
    // AWS API Gateway, ALB, Kong: a gateway's JSON, no error code.
    [403, 'application/json', '{"message":"Forbidden"}'],
    [400, 'application/json; charset=utf-8', '{"message":"bad password"}'],
    [401, 'application/json', '{"error":""}'],
    [403, 'application/json', '["denied"]'],
    [403, 'application/json', '"denied"'],
    [401, 'application/json', '{"error": "invalid'],
  ])('%s %s %s: a server failure (exit 5), not a rejection', async (status, contentType, body) => {
    expect(await outcome(status, contentType, body)).toEqual({ login: 5, refresh: '5 ServerError' })
  })
})

test('an answer to a login that is JSON but not an object is called that, not "not JSON"', async () => {
  let body = '["token"]'
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const host = new URL(url).host
  try {
    const api = apiProtocol({ name: 'prod', protocol: 'api', url }, { environ: {}, userAgent: 'test' })
    const login = () => api.login({ flow: 'password', credentials: { username: 'alice', password: 'pw-12345' } })
    await expect(login()).rejects.toThrow(
      `${host} sent a JSON value that is not an object (HTTP 200, application/json).`,
    )
    body = '<html>'
    await expect(login()).rejects.toThrow(`${host} sent an answer that is not JSON (HTTP 200, application/json).`)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

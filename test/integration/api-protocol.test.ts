import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { apiProtocol } from '../../src/protocols/api.js'
import { redact } from '../../src/util/redact.js'

// A server that repeats what it was sent in its error message must not make us repeat it.
test('a server message that echoes the password or refresh token is shown without it', async () => {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `bad request ${body}` })))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    const api = apiProtocol({ name: 'prod', protocol: 'api', url }, { environ: {}, userAgent: 'test' })
    const login = await api.login({ flow: 'password', credentials: { username: 'alice', password: 's3cret-pass' } }).catch((e: Error) => e)
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

/**
 * `tokenctl inspect` (docs/design.md#commands) end to end: the built CLI against the real JSON login API
 * server of test/support (JWT and opaque tokens), with the plain-file store. No mocks.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, type ApiServerOptions, startApiServer } from '../support/api-server.js'
import { type RunResult } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'
import { API_RESOURCE, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, startOidcServer } from '../support/oidc-server.js'

const REFRESH = '/auth/token/refresh'
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

const fixture = useFileStoreFixture()
const { run, track } = fixture

const credentialsFile = () => path.join(fixture.sandbox.configDir, 'credentials.json')

function storedAccessToken(): string {
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as {
    envs: Record<string, { accessToken: string }>
  }
  return data.envs.dev!.accessToken
}

/** A server, env `dev` (current), alice logged in; returns the server and her access token. */
async function loggedIn(options: ApiServerOptions = {}): Promise<{ server: ApiServer; token: string }> {
  const server = await startApiServer(options)
  track(server)
  expect(await run(['env', 'add', 'dev', '--url', server.url, '--use'])).toMatchObject({ code: 0 })
  expect(await run(['login', '--username', 'alice', '--password-stdin'], {}, 'wonderland\n')).toMatchObject({ code: 0 })
  return { server, token: storedAccessToken() }
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Neither the token nor any part of it that is not the (public, fixed) header. */
function expectNoTokenIn(result: RunResult, token: string): void {
  const [, payload, signature] = token.split('.')
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toContain(token)
    if (payload) expect(text).not.toContain(payload)
    if (signature) expect(text).not.toContain(signature)
  }
}

test('a JWT: header, claims (sub, iat, exp and the rest) and the time left; never the token or its signature', async () => {
  const { token } = await loggedIn()
  const claims = claimsOf(token)
  const result = await run(['inspect'])
  expect(result).toMatchObject({ code: 0, stderr: '' })
  expectNoTokenIn(result, token)
  const out = result.stdout
  expect(out).toMatch(/^env: +dev$/m)
  expect(out).toMatch(/^format: +JWT \(decoded, signature not verified\)$/m)
  expect(out).toMatch(/^expires: +in (29|30)m \(\d{4}-\d{2}-\d{2}T[\d:]+Z\)$/m)
  expect(out).toMatch(/^source: +cache$/m)
  expect(out).toMatch(/^header:\n {2}alg: +HS256\n {2}typ: +JWT\nclaims:\n/m)
  expect(out).toMatch(/^ {2}sub: +alice$/m)
  expect(out).toContain(`  iat:  ${claims.iat} (`)
  expect(out).toMatch(
    new RegExp(
      `^ {2}exp: +${claims.exp} \\(${new Date(Number(claims.exp) * 1000).toISOString().replace(/\.000Z$/, 'Z')}, in \\d+m`,
      'm',
    ),
  )
  expect(out).toMatch(new RegExp(`^ {2}jti: +${String(claims.jti)}$`, 'm'))
  // The order of docs/design.md#commands first: sub before iat before exp, then the rest.
  expect(out.indexOf('  sub:')).toBeLessThan(out.indexOf('  iat:'))
  expect(out.indexOf('  iat:')).toBeLessThan(out.indexOf('  exp:'))
  expect(out.indexOf('  exp:')).toBeLessThan(out.indexOf('  jti:'))
})

test('--json: {env, format, expiresAt, expiresIn, source, header, claims}, the claims as the token has them', async () => {
  const { token } = await loggedIn()
  const result = await run(['inspect', '--json'])
  expect(result).toMatchObject({ code: 0, stderr: '' })
  expectNoTokenIn(result, token)
  const json = JSON.parse(result.stdout) as Record<string, unknown>
  expect(Object.keys(json)).toEqual(['env', 'format', 'expiresAt', 'expiresIn', 'source', 'header', 'claims'])
  expect(json).toMatchObject({ env: 'dev', format: 'jwt', source: 'cache', header: { alg: 'HS256', typ: 'JWT' } })
  expect(json.claims).toEqual(claimsOf(token))
  expect(json.expiresAt).toMatch(ISO_Z)
  expect(Math.abs(Date.parse(json.expiresAt as string) / 1000 - Number(claimsOf(token).exp))).toBeLessThanOrEqual(1)
  expect(Number.isInteger(json.expiresIn)).toBe(true)
  expect(json.expiresIn).toBeGreaterThan(1700)
  expect(json.expiresIn).toBeLessThanOrEqual(1800)
})

test('an opaque token: said so, exit 0, no token; --json has format "opaque" and null header and claims', async () => {
  const { token } = await loggedIn({ tokenFormat: 'opaque' })
  const human = await run(['inspect'])
  expect(human).toMatchObject({ code: 0, stderr: '' })
  expectNoTokenIn(human, token)
  expect(human.stdout).toMatch(/^format: +opaque: not a JWT, so there are no claims to show$/m)
  expect(human.stdout).toMatch(/^expires: +in (29|30)m /m)
  expect(human.stdout).not.toMatch(/claims:|header:/)

  const json = await run(['inspect', '--json'])
  expect(json).toMatchObject({ code: 0, stderr: '' })
  expectNoTokenIn(json, token)
  expect(JSON.parse(json.stdout)).toMatchObject({
    env: 'dev',
    format: 'opaque',
    source: 'cache',
    header: null,
    claims: null,
  })
})

test('it inspects what `token` would hand out: a token that runs low is refreshed first; --no-refresh never refreshes', async () => {
  const { server, token } = await loggedIn({ accessTtl: 240 })

  const kept = await run(['inspect', '--no-refresh', '--json'])
  expect(kept.code).toBe(0)
  expect(JSON.parse(kept.stdout)).toMatchObject({ source: 'store', claims: { jti: claimsOf(token).jti } })
  expect(server.count(REFRESH)).toBe(0)

  const refreshed = await run(['inspect', '--json'])
  expect(refreshed.code).toBe(0)
  expect(server.count(REFRESH)).toBe(1)
  const fresh = storedAccessToken()
  expect(fresh).not.toBe(token)
  expect(JSON.parse(refreshed.stdout)).toMatchObject({ source: 'refresh', claims: { jti: claimsOf(fresh).jti } })
  expectNoTokenIn(refreshed, fresh)
  // The same token `token --min-ttl 0s` now serves from the cache.
  expect((await run(['token', '--min-ttl', '0s'])).stdout).toBe(`${fresh}\n`)
})

test('--no-refresh shows an expired token as expired, without asking the server', async () => {
  const { server } = await loggedIn({ accessTtl: 1 })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const before = server.requests.length
  const json = await run(['inspect', '--no-refresh', '--json'])
  expect(json.code).toBe(0)
  expect((JSON.parse(json.stdout) as { expiresIn: number }).expiresIn).toBeLessThan(0)
  const human = await run(['inspect', '--no-refresh'])
  expect(human.stdout).toMatch(/^expires: +expired \d+s ago/m)
  expect(human.stdout).toMatch(/^source: +store \(not refreshed\)$/m)
  expect(server.requests.length).toBe(before)
})

test('not logged in: exit 3 with the command to run, both ways', async () => {
  const server = await startApiServer()
  track(server)
  expect(await run(['env', 'add', 'dev', '--url', server.url, '--use'])).toMatchObject({ code: 0 })
  for (const args of [['inspect'], ['inspect', '--no-refresh'], ['inspect', '--json']]) {
    const result = await run(args)
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/^Error: .+\n.*tokenctl (login|inspect) -e dev/)
  }
})

test('hostile claims are printed without control characters; junk is opaque, not a crash', async () => {
  const server = await startApiServer()
  track(server)
  expect(await run(['env', 'add', 'dev', '--url', server.url, '--use'])).toMatchObject({ code: 0 })
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const hostile = `${segment({ alg: 'none\u001b[2J' })}.${segment({ sub: 'mallory\r\nexp:  9999999999\u001b]0;pwned\u0007', 'x\u202eevil': ['a\u0000b'], ['__proto__']: { admin: true }, nested: { deep: '\u009bX' } })}.c2ln`
  const keep = (accessToken: string) =>
    fs.writeFileSync(
      credentialsFile(),
      JSON.stringify({
        version: 1,
        envs: { dev: { accessToken, accessExpiresAt: Date.now() + 3_600_000, refreshToken: 'r', user: 'alice' } },
      }),
      { mode: 0o600 },
    )

  keep(hostile)
  const human = await run(['inspect', '--no-refresh'])
  expect(human).toMatchObject({ code: 0, stderr: '' })
  // eslint-disable-next-line no-control-regex
  expect(human.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
  expect(human.stdout).toMatch(/^ {2}sub: +malloryexp: {2}9999999999\]0;pwned$/m)
  expect(human.stdout).toMatch(/^ {2}__proto__: +\{"admin":true\}$/m)
  const json = JSON.parse((await run(['inspect', '--no-refresh', '--json'])).stdout) as {
    header: Record<string, unknown>
    claims: Record<string, unknown>
  }
  expect(json.header.alg).toBe('none[2J')
  expect(json.claims).toMatchObject({ sub: 'malloryexp:  9999999999]0;pwned', xevil: ['ab'], nested: { deep: 'X' } })
  expect(Object.keys(json.claims)).toContain('__proto__')

  for (const junk of [
    'a.b.c',
    'eyJ.eyJ.x',
    'x'.repeat(100),
    `${segment([1, 2])}.${segment({ sub: 'a' })}.s`,
    `${segment({ alg: 'A' })}..s`,
  ]) {
    keep(junk)
    const result = await run(['inspect', '--no-refresh', '--json'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout)).toMatchObject({ format: 'opaque', header: null, claims: null })
    expect(result.stdout).not.toContain(junk)
  }
})

test('oauth2: a JWT access token from a real OpenID provider shows its iss, sub, aud and scope', async () => {
  const server = await startOidcServer({ accessTokenFormat: 'jwt' })
  try {
    expect(
      await run([
        'env',
        'add',
        'corp',
        '--issuer',
        server.issuer,
        '--client-id',
        SERVICE_CLIENT_ID,
        '--scope',
        'api:read',
        '--use',
      ]),
    ).toMatchObject({ code: 0 })
    const secret = { TOKENCTL_CLIENT_SECRET: SERVICE_CLIENT_SECRET }
    const token = (await run(['token'], secret)).stdout.trim()
    expect(token.split('.')).toHaveLength(3)

    const human = await run(['inspect'], secret)
    expect(human).toMatchObject({ code: 0, stderr: '' })
    expectNoTokenIn(human, token)
    expect(human.stdout).toMatch(/^ {2}alg: +RS256$/m)
    expect(human.stdout).toMatch(new RegExp(`^ {2}iss: +${server.issuer.replace(/[.]/g, '\\.')}$`, 'm'))
    expect(human.stdout).toMatch(new RegExp(`^ {2}sub: +${SERVICE_CLIENT_ID}$`, 'm'))
    expect(human.stdout).toMatch(new RegExp(`^ {2}aud: +${API_RESOURCE.replace(/[.]/g, '\\.')}$`, 'm'))
    expect(human.stdout).toMatch(/^ {2}scope: +api:read$/m)

    const json = JSON.parse((await run(['inspect', '--json'], secret)).stdout) as { claims: Record<string, unknown> }
    expect(json.claims).toEqual(claimsOf(token))
  } finally {
    await server.close()
  }
})

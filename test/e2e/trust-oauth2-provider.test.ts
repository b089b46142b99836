/**
 * What tokenctl believes of an OAuth 2.0 provider, tried against a hostile one whose every
 * answer the test writes (test/support/hostile-provider.ts): endpoints stay where the
 * person put them, numbers are bounded, text is shown only made printable, a token must be
 * a Bearer token, a forged browser callback ends nothing, and no second host ever sees a
 * refresh token or a client secret.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type RunResult, Sandbox } from '../support/cli.js'
import { closedPort } from '../support/listen.js'
import { type HostileProvider, PATHS, startHostileProvider, unsignedJwt } from '../support/hostile-provider.js'
import { eventually } from '../support/keyring.js'
import {
  expireStoredAccessToken,
  FILE_STORE,
  readConfig,
  stored,
  storedTokens,
  writeConfig,
} from '../support/oauth2-e2e.js'
import { makeTestCertificate } from '../support/tls.js'

const CLIENT_ID = 'tokenctl-cli'
const CLIENT_SECRET = 'client-secret-0123456789abcdef'
const DEVICE_CODE = 'device-code-0123456789abcdefghij'
/** Characters that reorder or hide text on a terminal: bidi overrides and isolates, zero-width ones, the line separator. */
const HIDDEN = [
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u200E',
  '\u200F',
  '\u2028',
]
const HIDDEN_PATTERN = /[\u202A-\u202E\u2066-\u2069\u200B-\u200F\u2028\u2029]/

let sandbox: Sandbox
const providers: HostileProvider[] = []

beforeEach(() => {
  sandbox = new Sandbox()
})

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()))
  sandbox.cleanup()
})

async function provider(options: Parameters<typeof startHostileProvider>[0] = {}): Promise<HostileProvider> {
  const started = await startHostileProvider(options)
  providers.push(started)
  return started
}

const run = (
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
  timeoutMs?: number,
): Promise<RunResult> => sandbox.run(args, { env: { ...FILE_STORE, ...env }, input, timeoutMs })

async function addEnv(issuer: HostileProvider, extra: Record<string, string> = {}): Promise<void> {
  expect(await run(['env', 'add', 'corp', '--issuer', issuer.issuer, '--client-id', CLIENT_ID], extra)).toMatchObject({
    code: 0,
  })
}

/** A password login with the client secret from the variable: every token request carries it (Basic). */
async function loginWithSecret(): Promise<void> {
  const result = await run(
    ['login', '--flow', 'password', '--username', 'alice', '--password-stdin'],
    { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET },
    'wonderland\n',
  )
  expect(result).toMatchObject({ code: 0 })
}

/** A device authorization answer as raw JSON text, so that a test can put 1e400 in it. */
function deviceAnswer(provider: HostileProvider, fields: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    device_code: JSON.stringify(DEVICE_CODE),
    user_code: '"ABCD-EFGH"',
    verification_uri: JSON.stringify(provider.url('/verify')),
    expires_in: '600',
    interval: '5',
    ...fields,
  }
  return `{${Object.entries(values)
    .map(([key, value]) => `"${key}":${value}`)
    .join(',')}}`
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('rediscovery: endpoints stay where the person put them', () => {
  test.each([
    ['answers 404', async (a: HostileProvider) => a.on(PATHS.token, { status: 404, json: { error: 'not_found' } })],
    [
      'refuses connections',
      async () => {
        const config = readConfig(sandbox)!
        config.envs.corp = { ...config.envs.corp, tokenUrl: `http://127.0.0.1:${await closedPort()}/token` }
        writeConfig(sandbox, config)
      },
    ],
  ])(
    'the kept token endpoint %s, the document now names another host: refused (exit 5), that host sees nothing, the config keeps the old endpoint',
    async (_what, breakTokenEndpoint) => {
      const a = await provider()
      const b = await provider()
      await addEnv(a)
      await loginWithSecret()
      const before = storedTokens(sandbox, 'corp')

      await breakTokenEndpoint(a)
      const kept = readConfig(sandbox)!.envs.corp!.tokenUrl
      a.setDocument({ token_endpoint: b.url(PATHS.token) })
      expireStoredAccessToken(sandbox, 'corp')

      const result = await run(['token'], { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET })
      expect(result).toMatchObject({ code: 5, stdout: '' })
      expect(result.stderr).toContain(new URL(b.origin).host)
      expect(result.stderr).toContain(`tokenctl env add corp --issuer ${a.issuer} --client-id ${CLIENT_ID} --force`)
      expect(result.stderr).toMatch(/nothing was sent there/)
      // Not one request reached the second host: no refresh token, no client secret.
      expect(b.requests).toEqual([])
      expect(b.saw(before.refreshToken)).toBe(false)
      expect(b.saw(CLIENT_SECRET)).toBe(false)
      expect(readConfig(sandbox)!.envs.corp!.tokenUrl).toBe(kept)
      expect(storedTokens(sandbox, 'corp').refreshToken).toBe(before.refreshToken)
      for (const secret of [CLIENT_SECRET, before.refreshToken, before.accessToken])
        expect(result.stderr).not.toContain(secret)
    },
  )

  test("a move on the issuer's own origin is followed, said on stderr, written to the audit log, and kept once the new endpoint answered", async () => {
    const a = await provider()
    await addEnv(a)
    await loginWithSecret()
    const tokens = a.requestsTo(PATHS.token).length
    a.on('/v2/token', {
      json: {
        access_token: 'moved-access-0123456789',
        refresh_token: 'moved-refresh-0123456789',
        token_type: 'bearer',
        expires_in: 3600,
      },
    })
    a.on(PATHS.token, { status: 404, json: { error: 'not_found' } })
    a.setDocument({ token_endpoint: a.url('/v2/token') })
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'], { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET })
    expect(result).toMatchObject({ code: 0, stdout: 'moved-access-0123456789\n' })
    expect(result.stderr).toContain(
      `The token_endpoint of "corp" moved from ${a.url(PATHS.token)} to ${a.url('/v2/token')}`,
    )
    expect(a.requestsTo(PATHS.token)).toHaveLength(tokens + 1)
    expect(readConfig(sandbox)!.envs.corp!.tokenUrl).toBe(a.url('/v2/token'))

    const audit = await run(['audit', '--json'])
    expect(audit).toMatchObject({ code: 0 })
    expect(JSON.parse(audit.stdout)).toContainEqual(
      expect.objectContaining({
        env: 'corp',
        event: 'endpoint',
        outcome: 'ok',
        endpoint: 'token_endpoint',
        from: a.url(PATHS.token),
        to: a.url('/v2/token'),
      }),
    )
    expect((await run(['audit'])).stdout).toContain(`token_endpoint moved to ${a.url('/v2/token')}`)
  })

  test('a moved endpoint that fails is not kept: the config keeps the old one', async () => {
    const a = await provider()
    await addEnv(a)
    await loginWithSecret()
    a.on(PATHS.token, { status: 404, json: { error: 'not_found' } })
    a.on('/v2/token', { status: 503, raw: 'down for maintenance', contentType: 'text/plain' })
    a.setDocument({ token_endpoint: a.url('/v2/token') })
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'], { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET })
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(a.requestsTo('/v2/token')).toHaveLength(1)
    expect(readConfig(sandbox)!.envs.corp!.tokenUrl).toBe(a.url(PATHS.token))
    expect(result.stderr).not.toMatch(/moved from/)
  })
})

describe('an https issuer never names a plain-http endpoint', () => {
  test('env add with a document naming an http loopback token endpoint: exit 5, nothing saved, nothing sent there', async () => {
    const tls = makeTestCertificate(sandbox.dir)
    const secure = await provider({ tls })
    const plain = await provider()
    secure.setDocument({ token_endpoint: plain.url(PATHS.token) })
    const result = await run(['env', 'add', 'corp', '--issuer', secure.issuer, '--client-id', CLIENT_ID], {
      NODE_EXTRA_CA_CERTS: tls.certFile,
    })
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toContain('plain-http token_endpoint')
    expect(secure.requestsTo(PATHS.discovery)).toHaveLength(1)
    expect(plain.requests).toEqual([])
    expect(readConfig(sandbox)?.envs.corp).toBeUndefined()
  })

  test('a rediscovery that finds an http loopback token endpoint for an https issuer: refused (exit 5), nothing sent there', async () => {
    const tls = makeTestCertificate(sandbox.dir)
    const env = { NODE_EXTRA_CA_CERTS: tls.certFile, TOKENCTL_CLIENT_SECRET: CLIENT_SECRET }
    const secure = await provider({ tls })
    const plain = await provider()
    expect(await run(['env', 'add', 'corp', '--issuer', secure.issuer, '--client-id', CLIENT_ID], env)).toMatchObject({
      code: 0,
    })
    expect(
      await run(['login', '--flow', 'password', '--username', 'alice', '--password-stdin'], env, 'wonderland\n'),
    ).toMatchObject({ code: 0 })
    secure.on(PATHS.token, { status: 404, json: { error: 'not_found' } })
    secure.setDocument({ token_endpoint: plain.url(PATHS.token) })
    expireStoredAccessToken(sandbox, 'corp')

    const result = await run(['token'], env)
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toContain('plain-http token_endpoint')
    expect(plain.requests).toEqual([])
    expect(readConfig(sandbox)!.envs.corp!.tokenUrl).toBe(secure.url(PATHS.token))
  })
})

describe('numbers from a provider are bounded', () => {
  async function startDeviceLogin(fields: Record<string, string>) {
    const a = await provider()
    await addEnv(a)
    a.on(PATHS.device, { raw: deviceAnswer(a, fields) })
    a.on(PATHS.token, { status: 400, json: { error: 'authorization_pending' } })
    return a
  }

  test('interval 3000000: at most one poll a second, and no TimeoutOverflowWarning', async () => {
    const a = await startDeviceLogin({ interval: '3000000' })
    const login = sandbox.start(['login', '--flow', 'device'], { env: FILE_STORE })
    await login.waitForStderr(/the code ABCD-EFGH/)
    await sleep(3500)
    // The interval is clamped to 60 s: over 3.5 s none is due; one allows for a poll at the start.
    expect(a.requestsTo(PATHS.token).length).toBeLessThanOrEqual(1)
    login.child.kill('SIGINT')
    const result = await login.done
    expect(result.stderr).not.toMatch(/TimeoutOverflowWarning/)
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('expires_in 1e12 of a device code: waited for 30 minutes at most', async () => {
    const a = await startDeviceLogin({ expires_in: '1e12', interval: '1' })
    a.on(PATHS.token, { status: 400, json: { error: 'access_denied' } })
    const result = await run(['login', '--flow', 'device'])
    expect(result).toMatchObject({ code: 4 })
    expect(result.stderr).toMatch(/the code expires in (29|30)m\b/)
  })

  test.each(['interval', 'expires_in'])(
    '%s 1e400 (Infinity in JSON): exit 5, no poll, nothing stored, no TimeoutOverflowWarning',
    async (field) => {
      const a = await startDeviceLogin({ [field]: '1e400' })
      // Bounded: the old code polled without end here.
      const result = await run(['login', '--flow', 'device'], {}, undefined, 10_000)
      expect(result).toMatchObject({ code: 5, stdout: '' })
      expect(result.stderr).toContain(`whose ${field} is not a finite number`)
      expect(result.stderr).not.toMatch(/TimeoutOverflowWarning/)
      expect(a.requestsTo(PATHS.token)).toHaveLength(0)
      expect(stored(sandbox, 'corp')).toBeUndefined()
    },
  )
})

describe('text from the provider', () => {
  test('a verification_uri_complete with spaces in it is shown as one normalised URL', async () => {
    const a = await provider()
    await addEnv(a)
    const complete = `${a.url('/verify')}?user_code=ABCD EFGH https://evil.example/`
    a.on(PATHS.device, { raw: deviceAnswer(a, { verification_uri_complete: JSON.stringify(complete), interval: '1' }) })
    a.on(PATHS.token, { status: 400, json: { error: 'access_denied' } })
    const result = await run(['login', '--flow', 'device'])
    expect(result).toMatchObject({ code: 4 })
    expect(result.stderr).toContain(`open ${new URL(complete).href}\n`)
    expect(result.stderr).not.toContain(' https://evil.example')
  })

  // Needs the one sanitizer (printable() stripping bidi and zero-width characters), made on another branch.
  test('bidi, zero-width and line-separator characters in user_code, verification_uri, preferred_username and error_description never reach stderr', async () => {
    const a = await provider()
    await addEnv(a)
    const sly = HIDDEN.join('')
    a.on(PATHS.device, {
      raw: deviceAnswer(a, {
        user_code: JSON.stringify(`AB${sly}CD-EFGH`),
        verification_uri: JSON.stringify(`${a.url('/verify')}${sly}`),
        verification_uri_complete: JSON.stringify(`${a.url('/verify')}?code=AB${sly}CD`),
        interval: '1',
      }),
    })
    a.on(PATHS.token, {
      json: {
        access_token: 'device-access-0123456789',
        refresh_token: 'device-refresh-0123456789',
        token_type: 'Bearer',
        expires_in: 3600,
        id_token: unsignedJwt({ sub: 'u1', preferred_username: `ali${sly}ce` }),
      },
    })
    const login = await run(['login', '--flow', 'device'])
    expect(login).toMatchObject({ code: 0 })
    expect(login.stderr).toMatch(/Logged in to corp as ali/)
    const status = await run(['status'])
    expect(status.stdout + status.stderr).toMatch(/ali/)

    a.on(PATHS.token, { status: 400, json: { error: 'invalid_grant', error_description: `wrong${sly} password` } })
    const refused = await run(['login', '--flow', 'password', '--username', 'bob', '--password-stdin'], {}, 'builder\n')
    expect(refused).toMatchObject({ code: 4 })
    expect(refused.stderr).toMatch(/wrong/)

    for (const output of [login.stderr, status.stdout, status.stderr, refused.stderr])
      expect(output).not.toMatch(HIDDEN_PATTERN)
  })
})

describe('what a token answer must be', () => {
  test.each([
    ['missing', undefined],
    ['not a string', 42],
    ['not Bearer', 'mac'],
  ])('token_type %s: exit 5, nothing stored', async (_what, tokenType) => {
    const a = await provider()
    await addEnv(a)
    a.on(PATHS.token, {
      json: {
        access_token: 'typeless-access-0123456789',
        refresh_token: 'typeless-refresh-0123456789',
        expires_in: 3600,
        token_type: tokenType,
      },
    })
    const result = await run(
      ['login', '--flow', 'password', '--username', 'alice', '--password-stdin'],
      {},
      'wonderland\n',
    )
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toMatch(/cannot send as a bearer token; nothing was stored/)
    expect(result.stderr).not.toContain('typeless-refresh-0123456789')
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('a server that quotes back the Basic header or id:secret gets neither printed', async () => {
    const a = await provider()
    await addEnv(a)
    a.on(PATHS.token, (request) => ({
      status: 401,
      json: {
        error: 'invalid_client',
        error_description: `bad ${String(request.headers.authorization)} for ${CLIENT_ID}:${CLIENT_SECRET}`,
      },
    }))
    const result = await run(
      ['login', '--flow', 'password', '--username', 'alice', '--password-stdin'],
      { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET },
      'wonderland\n',
    )
    expect(result).toMatchObject({ code: 4 })
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')
    expect(a.requestsTo(PATHS.token)[0]!.headers.authorization).toBe(`Basic ${basic}`)
    expect(result.stderr).toMatch(/invalid_client/)
    expect(result.stderr).not.toContain(basic)
    expect(result.stderr).not.toContain(CLIENT_SECRET)
  })
})

describe('browser flow', () => {
  test('a callback with a wrong state is answered 400 and ignored; the right one still completes the login', async () => {
    const a = await provider()
    await addEnv(a)
    const opened = path.join(sandbox.dir, 'opened.txt')
    const script = path.join(sandbox.dir, 'browser.sh')
    fs.writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > "${opened}.part" && mv "${opened}.part" "${opened}"\n`, {
      mode: 0o755,
    })
    const login = sandbox.start(['login', '--flow', 'browser', '--timeout', '45s'], {
      env: { ...FILE_STORE, BROWSER: script, DISPLAY: undefined },
    })
    expect(await eventually(() => fs.existsSync(opened), 30_000)).toBe(true)
    const authorize = new URL(fs.readFileSync(opened, 'utf8'))
    const redirect = authorize.searchParams.get('redirect_uri')!
    const state = authorize.searchParams.get('state')!

    const forged = await fetch(`${redirect}?code=forged-code-0123456789&state=not-the-state`)
    expect(forged.status).toBe(400)
    expect(await forged.text()).not.toContain('not-the-state')
    const forgedError = await fetch(`${redirect}?error=access_denied&state=also-wrong`)
    expect(forgedError.status).toBe(400)

    const genuine = await fetch(`${redirect}?code=genuine-code-0123456789&state=${encodeURIComponent(state)}`)
    expect(genuine.status).toBe(200)
    const result = await login.done
    expect(result).toMatchObject({ code: 0, stdout: '' })
    const exchanges = a.requestsTo(PATHS.token)
    expect(exchanges).toHaveLength(1)
    expect(exchanges[0]!.form).toMatchObject({ grant_type: 'authorization_code', code: 'genuine-code-0123456789' })
    expect(storedTokens(sandbox, 'corp').accessToken).toBe(a.issued[0]!.access_token)
  })
})

describe('how failures are named', () => {
  test('a revoke that fails names the revocation host, not the token host', async () => {
    const a = await provider()
    const b = await provider()
    a.setDocument({ revocation_endpoint: b.url(PATHS.revoke) })
    await addEnv(a)
    await loginWithSecret()
    b.on(PATHS.revoke, { status: 500, json: { error: 'server_error' } })
    const result = await run(['revoke'], { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET })
    expect(result).toMatchObject({ code: 5 })
    expect(result.stderr).toContain(`${new URL(b.origin).host} failed with HTTP 500`)
    expect(result.stderr).not.toContain(new URL(a.origin).host)
  })

  test('a discovery document over 1 MiB is called too large, not unreachable', async () => {
    const a = await provider()
    a.on(PATHS.discovery, {
      raw: JSON.stringify({
        issuer: a.issuer,
        token_endpoint: a.url(PATHS.token),
        padding: 'x'.repeat(2 * 1024 * 1024),
      }),
    })
    const result = await run(['env', 'add', 'corp', '--issuer', a.issuer, '--client-id', CLIENT_ID])
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toMatch(/larger than 1 MiB/)
    expect(result.stderr).not.toMatch(/unreachable/)
    expect(readConfig(sandbox)?.envs.corp).toBeUndefined()
  })
})

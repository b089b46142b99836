/**
 * A token goes only where it was issued. Every stored login carries what it was issued for
 * (protocol, server, client, user); a login whose binding does not match the env in use is
 * never used and none of its tokens is sent anywhere, whoever changed the env: `env add
 * --force`, a careless admin editing config.json, or a second CI job on the same runner.
 * And a time from the future in a record is not believed.
 *
 * Two real `api` servers, A and B, and the built CLI as a subprocess. "B never saw A's
 * tokens" is checked on what B actually received, headers included.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer } from '../support/api-server.js'
import { type RunResult } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'
import { type HostileProvider, PATHS, startHostileProvider } from '../support/hostile-provider.js'
import { keyringTest, useKeyring } from '../support/keyring.js'

const PASSWORD = 'wonderland'
const REFRESH = '/auth/token/refresh'
const REVOKE = '/auth/token/revoke'

const fixture = useFileStoreFixture()
const { serve, run, track } = fixture

async function ok(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<RunResult> {
  const result = await run(args, env, input)
  expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 })
  return result
}

/** An OAuth 2.0 provider on a host (port) of its own, every request recorded (test/support/hostile-provider.ts). */
async function provider(): Promise<HostileProvider> {
  const started = await startHostileProvider()
  track(started)
  return started
}

const credentialsFile = () => path.join(fixture.sandbox.configDir, 'credentials.json')

function storedEnvs(): Record<string, Record<string, unknown>> {
  if (!fs.existsSync(credentialsFile())) return {}
  return (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, Record<string, unknown>> })
    .envs
}

/** Every byte `server` received, bodies and headers, as one string: where a leak would show. */
function received(server: ApiServer): string {
  return server.requests.map((request) => JSON.stringify(request.body) + JSON.stringify(request.headers)).join('\n')
}

/** Every token `from` ever issued, checked against what `to` received. */
function expectNoTokensOf(from: ApiServer, to: ApiServer): void {
  const seen = received(to)
  const { access, refresh } = from.issued()
  expect(access.length + refresh.length).toBeGreaterThan(0)
  for (const token of [...access, ...refresh]) expect(seen).not.toContain(token)
}

function editConfig(edit: (data: { envs: Record<string, Record<string, unknown>> }) => void): void {
  const data = JSON.parse(fs.readFileSync(fixture.sandbox.configFile, 'utf8')) as {
    envs: Record<string, Record<string, unknown>>
  }
  edit(data)
  fs.writeFileSync(fixture.sandbox.configFile, JSON.stringify(data, null, 2))
}

async function loginProd(server: ApiServer): Promise<{ accessToken: string; refreshToken: string }> {
  await ok(['env', 'add', 'prod', '--url', server.url, '--use'])
  await ok(['login', '-e', 'prod', '--username', 'alice', '--password-stdin'], {}, `${PASSWORD}\n`)
  const record = storedEnvs().prod as { accessToken: string; refreshToken: string }
  expect(server.isRefreshTokenActive(record.refreshToken)).toBe(true)
  return record
}

function expectLoginNeeded(result: RunResult, a: ApiServer, b: ApiServer): void {
  expect(result.code).toBe(3)
  expect(result.stdout).toBe('')
  expect(result.stderr).toContain(`The stored login of "prod" was made for ${a.url}, not ${b.url}.`)
  expect(result.stderr).toContain('Run: tokenctl login -e prod')
}

describe('a login is used only for what it was issued for', () => {
  test('env add --force to another server revokes the old login at the old server and deletes it; B never sees it', async () => {
    const a = await serve()
    const b = await serve()
    const old = await loginProd(a)

    const replaced = await ok(['env', 'add', 'prod', '--url', b.url, '--force'])
    expect(replaced.stderr).toContain(`the login kept for ${a.url} was revoked there and deleted here`)
    // A was told, with the old refresh token; it no longer works there.
    expect(a.requests.filter((r) => r.path === REVOKE).map((r) => r.body)).toEqual([{ refreshToken: old.refreshToken }])
    expect(a.isRefreshTokenActive(old.refreshToken)).toBe(false)
    // Nothing of A's login is kept anywhere: not the store, not a cache.
    expect(storedEnvs().prod).toBeUndefined()
    expect(fixture.sandbox.filesContaining(old.refreshToken)).toEqual([])
    expect(fixture.sandbox.filesContaining(old.accessToken)).toEqual([])

    for (const args of [['token'], ['refresh'], ['token', '--force-refresh']]) {
      const result = await run(args)
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 3, stdout: '' })
      expect(result.stderr).toContain('Not logged in to "prod".')
    }
    expect(b.requests).toEqual([])
    expectNoTokensOf(a, b)
  })

  test('env add --force that keeps the server and client keeps the login', async () => {
    const a = await serve()
    const old = await loginProd(a)
    const replaced = await ok(['env', 'add', 'prod', '--url', `${a.url}/`, '--username', 'bob', '--force'])
    expect(replaced.stderr).not.toContain('revoked')
    expect(a.count(REVOKE)).toBe(0)
    expect((await ok(['token'])).stdout).toBe(`${old.accessToken}\n`)
  })

  test('a hand-edited path that is a whole URL on another host: exit 2, and that host never sees the refresh token', async () => {
    const a = await serve()
    const b = await serve()
    const old = await loginProd(a)
    // `env add` takes paths only; a hand edit can put a URL where a path belongs.
    editConfig((data) => (data.envs.prod!.refreshPath = `${b.url}/steal`))

    const result = await run(['refresh'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`The env "prod" has a path that leads off ${a.url}: ${b.url}/steal.`)
    expect(b.requests).toEqual([])
    expect(a.isRefreshTokenActive(old.refreshToken)).toBe(true)
  })

  test('a record made for A while config.json says B: token, refresh and git-credential need a login, on both paths; B sees none of it', async () => {
    const a = await serve()
    const b = await serve()
    const old = await loginProd(a)
    // A careless admin points the env elsewhere by hand: no `env add`, nothing revoked.
    editConfig((data) => (data.envs.prod!.url = b.url))

    const results: Record<string, RunResult> = {}
    for (const fast of ['1', '0']) {
      for (const args of [['token'], ['token', '-f', 'header'], ['refresh'], ['token', '--force-refresh']]) {
        const result = await run(args, { TOKENCTL_FAST_PATH: fast })
        expectLoginNeeded(result, a, b)
        results[`${fast} ${args.join(' ')}`] = result
      }
    }
    // The cache hit the fast path would have served is refused exactly as the full path refuses it.
    for (const args of ['token', 'token -f header']) {
      const [fast, full] = [results[`1 ${args}`]!, results[`0 ${args}`]!]
      expect({ code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({
        code: full.code,
        stdout: full.stdout,
        stderr: full.stderr,
      })
    }

    const host = new URL(b.url).host
    for (const fast of ['1', '0']) {
      const git = await run(['git-credential', 'get'], { TOKENCTL_FAST_PATH: fast }, `protocol=http\nhost=${host}\n\n`)
      expect({ code: git.code, stdout: git.stdout }).toEqual({ code: 0, stdout: '' })
      expect(git.stderr).toContain(`The stored login of "prod" was made for ${a.url}, not ${b.url}.`)
    }

    const status = await run(['status'])
    expect(status.code).toBe(3)
    expect(status.stdout).toMatch(/logged in:\s+no\n/)
    expect(status.stderr).toContain(`The stored login of "prod" was made for ${a.url}, not ${b.url}.`)
    const json = await run(['status', '--json'])
    expect({ code: json.code, loggedIn: JSON.parse(json.stdout).loggedIn }).toEqual({ code: 3, loggedIn: false })

    expect(b.requests).toEqual([])
    expectNoTokensOf(a, b)
    // Nothing was sent to A either: the env no longer names it.
    expect(a.count(REFRESH)).toBe(0)

    // revoke deletes it here and sends it to neither server.
    const revoked = await run(['revoke'])
    expect(revoked.code).toBe(0)
    expect(revoked.stderr).toContain(`The stored login of "prod" was made for ${a.url}, not ${b.url}.`)
    expect(revoked.stderr).toContain('deleted here without being sent to any server')
    expect(b.requests).toEqual([])
    expect(a.count(REVOKE)).toBe(0)
    expect(storedEnvs().prod).toBeUndefined()
    expect(fixture.sandbox.filesContaining(old.refreshToken)).toEqual([])
  })

  test('env remove of a login made for A while config.json says B: says it was deleted without being revoked anywhere', async () => {
    const a = await serve()
    const b = await serve()
    const old = await loginProd(a)
    editConfig((data) => (data.envs.prod!.url = b.url))

    const removed = await ok(['env', 'remove', 'prod'])
    expect(removed.stderr).toContain(`The stored login of "prod" was made for ${a.url}, not ${b.url}.`)
    expect(removed.stderr).toContain(
      'deleted here without being sent to any server; revoke that session on its own server if it matters',
    )
    expect(b.requests).toEqual([])
    expect(a.count(REVOKE)).toBe(0)
    expect(a.isRefreshTokenActive(old.refreshToken)).toBe(true)
    expect(fixture.sandbox.filesContaining(old.refreshToken)).toEqual([])
  })

  test('a future obtainedAt in the record is not believed: refresh still refreshes', async () => {
    const a = await serve()
    const old = await loginProd(a)
    const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as {
      envs: Record<string, Record<string, unknown>>
    }
    data.envs.prod!.obtainedAt = Date.now() + 3_600_000
    fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })

    await ok(['refresh'])
    expect(a.requests.filter((r) => r.path === REFRESH).map((r) => r.body)).toEqual([
      { refreshToken: old.refreshToken },
    ])
    await ok(['token', '--force-refresh'])
    expect(a.count(REFRESH)).toBe(2)
    expect(storedEnvs().prod!.accessToken).not.toBe(old.accessToken)
  })
})

describe('oauth2: a login goes only to the endpoints it was bound to, not just to its issuer', () => {
  const CLIENT_ID = 'tokenctl-cli'
  const CLIENT_SECRET = 'client-secret-0123456789abcdef'

  /**
   * corp on `idp`'s issuer (endpoints discovered), logged in by password. The client secret
   * is then put in the record, as one a person typed at a terminal is kept: every refresh
   * carries it (Basic) with no variable set.
   */
  async function loginCorp(idp: HostileProvider): Promise<{ accessToken: string; refreshToken: string }> {
    await ok(['env', 'add', 'corp', '--issuer', idp.issuer, '--client-id', CLIENT_ID, '--use'])
    await ok(
      ['login', '-e', 'corp', '--flow', 'password', '--username', 'alice', '--password-stdin'],
      { TOKENCTL_CLIENT_SECRET: CLIENT_SECRET },
      `${PASSWORD}\n`,
    )
    const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as {
      envs: Record<string, Record<string, unknown>>
    }
    data.envs.corp!.clientSecret = CLIENT_SECRET
    fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
    return storedEnvs().corp as { accessToken: string; refreshToken: string }
  }

  function expectNothingSeenBy(evil: HostileProvider, old: { accessToken: string; refreshToken: string }): void {
    expect(evil.requests).toEqual([])
    for (const secret of [old.refreshToken, old.accessToken, CLIENT_SECRET]) expect(evil.saw(secret)).toBe(false)
  }

  test('env add --force with the same issuer and a token endpoint on another host revokes at the old endpoints and deletes; that host never sees a secret', async () => {
    const idp = await provider()
    const evil = await provider()
    const old = await loginCorp(idp)

    const replaced = await ok([
      'env',
      'add',
      'corp',
      '--issuer',
      idp.issuer,
      '--client-id',
      CLIENT_ID,
      '--token-url',
      evil.url(PATHS.token),
      '--force',
    ])
    expect(replaced.stderr).toContain(`the login kept for ${idp.issuer} was revoked there and deleted here`)
    expect(idp.requestsTo(PATHS.revoke).some((request) => request.form.token === old.refreshToken)).toBe(true)
    expect(storedEnvs().corp).toBeUndefined()
    expect(fixture.sandbox.filesContaining(old.refreshToken)).toEqual([])
    expect(fixture.sandbox.filesContaining(CLIENT_SECRET)).toEqual([])

    for (const args of [['refresh'], ['token']]) {
      const result = await run(args)
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 3, stdout: '' })
      expect(result.stderr).toContain('Not logged in to "corp".')
    }
    expectNothingSeenBy(evil, old)
  })

  test.each(['tokenUrl', 'revokeUrl', 'deviceUrl'])(
    'a hand-edited %s on another host: the login is not used or sent, on both paths; revoke deletes it and sends it nowhere',
    async (field) => {
      const idp = await provider()
      const evil = await provider()
      const old = await loginCorp(idp)
      const requests = idp.requests.length
      editConfig((data) => (data.envs.corp![field] = evil.url(`/${field}`)))
      const why = `The stored login of "corp" was made for endpoints at ${idp.origin}, not ${evil.origin}.`

      for (const fast of ['1', '0']) {
        for (const args of [['token'], ['refresh'], ['token', '--force-refresh']]) {
          const result = await run(args, { TOKENCTL_FAST_PATH: fast })
          expect({ args, fast, code: result.code, stdout: result.stdout }).toEqual({ args, fast, code: 3, stdout: '' })
          expect(result.stderr).toContain(why)
        }
      }
      const revoked = await run(['revoke'])
      expect(revoked.code).toBe(0)
      expect(revoked.stderr).toContain(why)
      expect(revoked.stderr).toContain('deleted here without being sent to any server')
      expect(storedEnvs().corp).toBeUndefined()
      expectNothingSeenBy(evil, old)
      // Nor was the issuer's host sent anything more: the env no longer sends only there.
      expect(idp.requests.length).toBe(requests)
    },
  )

  test("a rediscovery that moves the token endpoint to the issuer's own host keeps the login usable", async () => {
    const idp = await provider()
    const tokens = await provider()
    // The issuer's document first names every endpoint that gets secrets on another host, as large providers do.
    idp.setDocument({
      token_endpoint: tokens.url(PATHS.token),
      revocation_endpoint: tokens.url(PATHS.revoke),
      device_authorization_endpoint: tokens.url(PATHS.device),
    })
    const old = await loginCorp(idp)
    expect(tokens.requestsTo(PATHS.token)).toHaveLength(1)

    tokens.on(PATHS.token, { status: 404, json: { error: 'not_found' } })
    idp.setDocument({ token_endpoint: idp.url(PATHS.token) })
    const moved = await ok(['refresh'])
    expect(moved.stderr).toContain(`moved from ${tokens.url(PATHS.token)} to ${idp.url(PATHS.token)}`)
    expect(idp.requestsTo(PATHS.token).map((request) => request.form.refresh_token)).toEqual([old.refreshToken])

    // The next runs use the login kept, at the endpoint kept, on both paths.
    await ok(['refresh'])
    expect(idp.requestsTo(PATHS.token)).toHaveLength(2)
    const token = await ok(['token'])
    expect(token.stdout).toBe(`${String(storedEnvs().corp!.accessToken)}\n`)
    expect((await ok(['token'], { TOKENCTL_FAST_PATH: '0' })).stdout).toBe(token.stdout)
  })
})

describe('with the keychain and its access cache beside it', () => {
  const keyring = useKeyring()
  const withKeyring = keyringTest('bindings against gnome-keyring')
  const keychain = (extra: Record<string, string | undefined> = {}) => ({
    TOKENCTL_STORE: undefined,
    ...keyring()!.env,
    ...extra,
  })
  const accessFile = () => path.join(fixture.sandbox.runtimeDir, 'tokenctl', 'access', 'prod.json')

  withKeyring('a cached access token made for A is not served for B, by the fast path or the full path', async () => {
    const a = await serve()
    const b = await serve()
    await ok(['env', 'add', 'prod', '--url', a.url, '--use'])
    await ok(['login', '-e', 'prod', '--username', 'alice', '--password-stdin'], keychain(), `${PASSWORD}\n`)
    const token = (await ok(['token'], keychain())).stdout
    expect(fs.readFileSync(accessFile(), 'utf8')).toContain(token.trimEnd())

    editConfig((data) => (data.envs.prod!.url = b.url))
    const [fast, full] = [await run(['token'], keychain()), await run(['token'], keychain({ TOKENCTL_FAST_PATH: '0' }))]
    expectLoginNeeded(fast, a, b)
    expect({ code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({
      code: full.code,
      stdout: full.stdout,
      stderr: full.stderr,
    })
    expect(b.requests).toEqual([])
    expectNoTokensOf(a, b)

    // Set right again: the login made for A is A's, and stays.
    const back = await ok(['env', 'add', 'prod', '--url', a.url, '--force'], keychain())
    expect(back.stderr).not.toContain('login kept')
    expect((await ok(['token'], keychain())).stdout).toBe(token)
    expect(a.count(REVOKE)).toBe(0)

    // Pointed at B the proper way, the old login goes from the keychain and from the cache.
    const moved = await ok(['env', 'add', 'prod', '--url', b.url, '--force'], keychain())
    expect(moved.stderr).toContain(`the login kept for ${a.url} was revoked there and deleted here`)
    expect(fs.existsSync(accessFile())).toBe(false)
    expect(await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', 'prod'])).toMatchObject({
      code: 1,
      stdout: '',
    })
    expect(a.count(REVOKE)).toBe(1)
    expect(b.requests).toEqual([])
  })
})

describe('two CI jobs on one runner never share a login', () => {
  /** A CI job: variables only, no config, no keychain (so the per-user cache is used), the same runtime dir for both. */
  function job(
    server: ApiServer,
    user = 'alice',
    password = PASSWORD,
    extra: Record<string, string> = {},
  ): Record<string, string | undefined> {
    return {
      TOKENCTL_STORE: undefined,
      CI: 'true',
      TOKENCTL_URL: server.url,
      TOKENCTL_USERNAME: user,
      TOKENCTL_PASSWORD: password,
      ...extra,
    }
  }

  async function tokenOf(env: Record<string, string | undefined>): Promise<string> {
    const result = await run(['token'], env)
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    return result.stdout.trimEnd()
  }

  test("job 2 for another server gets that server's token; B never sees job 1's tokens", async () => {
    const a = await serve()
    const b = await serve()
    const first = await tokenOf(job(a))
    expect(a.issued().access).toContain(first)

    for (const fast of ['1', '0']) {
      const second = await tokenOf(job(b, 'alice', PASSWORD, { TOKENCTL_FAST_PATH: fast }))
      expect(b.issued().access).toContain(second)
      const refreshed = await run(['refresh'], job(b, 'alice', PASSWORD, { TOKENCTL_FAST_PATH: fast }))
      expect(refreshed.code).toBe(0)
    }
    expectNoTokensOf(a, b)
    // Job 1 still has its own login, from its cache.
    expect(await tokenOf(job(a))).toBe(first)
    expect(a.count('/auth/token')).toBe(1)
    expect(fs.readdirSync(path.join(fixture.sandbox.runtimeDir, 'tokenctl')).length).toBeGreaterThan(0)
  })

  test("two jobs that give only a refresh token, for two users of one server: each gets its own user's token and sends only its own refresh token", async () => {
    const a = await serve({ users: { alice: PASSWORD, bob: 'builder' } })
    // Two people log in at the server; each CI job is given one of their refresh tokens.
    const logIn = (username: string, password: string) =>
      fetch(`${a.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      })
    expect([(await logIn('alice', PASSWORD)).status, (await logIn('bob', 'builder')).status]).toEqual([200, 200])
    const [forAlice, forBob] = a.issued().refresh as [string, string]
    const ci = (refreshToken: string) => ({
      TOKENCTL_STORE: undefined,
      CI: 'true',
      TOKENCTL_URL: a.url,
      TOKENCTL_REFRESH_TOKEN: refreshToken,
    })
    const me = async (token: string) =>
      (
        (await (await fetch(`${a.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          user: string
        }
      ).user

    const alice = await tokenOf(ci(forAlice))
    const bob = await tokenOf(ci(forBob))
    expect([await me(alice), await me(bob)]).toEqual(['alice', 'bob'])
    // Again, from each job's own cache (the fast path).
    expect(await tokenOf(ci(forAlice))).toBe(alice)
    expect(await tokenOf(ci(forBob))).toBe(bob)
    for (const refreshToken of [forBob, forAlice]) expect((await run(['refresh'], ci(refreshToken))).code).toBe(0)
    // Each job's refresh token (then the one it rotated to) came from that job alone.
    const [, , aliceRotated, bobRotated] = a.issued().refresh
    expect(
      a.requests.filter((r) => r.path === REFRESH).map((r) => (r.body as { refreshToken: string }).refreshToken),
    ).toEqual([forAlice, forBob, bobRotated, aliceRotated])
    expect([await me(await tokenOf(ci(forAlice))), await me(await tokenOf(ci(forBob)))]).toEqual(['alice', 'bob'])
  })

  test('login from variables checks the very entry it will write before it asks anything', async () => {
    const a = await serve()
    const result = await run(['login', '--no-input'], {
      TOKENCTL_URL: a.url,
      TOKENCTL_USERNAME: 'alice',
      TOKENCTL_PASSWORD: PASSWORD,
      TOKENCTL_DEBUG: '1',
    })
    expect(result.code).toBe(0)
    const key = Object.keys(storedEnvs())
    expect(key).toEqual([expect.stringMatching(/^default~[0-9a-f]{8}$/)])
    const calls = result.stderr.split('\n').filter((line) => /tokenctl debug: .*\b(get|set) /.test(line))
    expect(calls.length).toBeGreaterThanOrEqual(2)
    for (const call of calls) expect(call).toMatch(new RegExp(`\\b(get|set) ${key[0]} in `))
  })

  test("the same server and two users: each job gets its own user's token", async () => {
    const a = await serve({ users: { alice: PASSWORD, bob: 'builder' } })
    const alice = await tokenOf(job(a))
    const bob = await tokenOf(job(a, 'bob', 'builder'))
    expect(bob).not.toBe(alice)
    const me = async (token: string) =>
      (await (await fetch(`${a.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        user: string
      }
    expect(await me(alice)).toMatchObject({ user: 'alice' })
    expect(await me(bob)).toMatchObject({ user: 'bob' })
    expect(await tokenOf(job(a))).toBe(alice)
    expect(await tokenOf(job(a, 'bob', 'builder'))).toBe(bob)
    // Each user logged in once; neither job's refresh token was sent for the other.
    expect(
      a.requests.filter((r) => r.path === '/auth/token').map((r) => (r.body as { username: string }).username),
    ).toEqual(['alice', 'bob'])
    expect(a.count(REFRESH)).toBe(0)
  })
})

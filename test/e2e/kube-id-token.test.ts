/**
 * `kube-credential --id-token` end to end (docs/design.md#kubectl) against a real OpenID
 * provider: the ExecCredential holds the ID token the provider issued (a JWT for this
 * client, from this issuer) with its own `exp`; served from the store with no request, by
 * the fast path and the full one alike; refreshed when it runs low (one refresh for a
 * crowd); the clear exit 2 for an env that gets no ID token or is not oauth2; the ID token
 * nowhere but the store; and the real kubectl sending it to an API server that checks it
 * as a cluster's OIDC authenticator would.
 */
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { startApiServer } from '../support/api-server.js'
import { runProcess, type RunResult, Sandbox } from '../support/cli.js'
import { runBothWays } from '../support/fast-path.js'
import { type KubeApiServer, NAMESPACES, startKubeApiServer, writeTestKubeconfig } from '../support/kube-api-server.js'
import { credentialsFile, FILE_STORE, jwtClaims, readConfig, stored } from '../support/oauth2-e2e.js'
import {
  type OidcServer,
  PASSWORD_CLIENT_ID,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  startOidcServer,
} from '../support/oidc-server.js'
import { makeTestCertificate } from '../support/tls.js'

const V1 = 'client.authentication.k8s.io/v1'
const KUBECTL = '/usr/bin/kubectl'
const EXEC_INFO = JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } })

let sandbox: Sandbox
let oidc: OidcServer

beforeEach(async () => {
  sandbox = new Sandbox()
  oidc = await startOidcServer()
})

afterEach(async () => {
  await oidc.close()
  sandbox.cleanup()
})

const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<RunResult> =>
  sandbox.run(args, { env: { ...FILE_STORE, ...env }, input })

/** An oauth2 env `corp` for the provider's password client, logged in as alice. */
async function loggedIn(...envArgs: string[]): Promise<void> {
  const add = await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', PASSWORD_CLIENT_ID, ...envArgs])
  expect(add).toMatchObject({ code: 0 })
  const login = await run(
    ['login', '-e', 'corp', '--flow', 'password', '--username', 'alice', '--password-stdin'],
    {},
    'wonderland\n',
  )
  expect(login).toMatchObject({ code: 0, stdout: '' })
}

interface Stored {
  idToken?: string
  idExpiresAt?: number
  accessToken?: string
}

const record = (): Stored => stored(sandbox, 'corp') as Stored

/** The ID token kept for corp, or a test failure saying there is none. */
function storedIdToken(): string {
  const { idToken } = record()
  if (!idToken) throw new Error(`no ID token stored: ${JSON.stringify(record())}`)
  return idToken
}

/** What kubectl must read for `idToken`, spelled out from the token's own claims. */
function answerFor(idToken: string): string {
  const exp = jwtClaims(idToken).exp as number
  const expiry = new Date(exp * 1000).toISOString().replace('.000Z', 'Z')
  return `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"${idToken}","expirationTimestamp":"${expiry}"}}\n`
}

/**
 * Makes the stored ID token one with `ms` left: its `exp` claim and its kept expiry both say
 * so (the signature no longer fits, which tokenctl never checks), and it differs from any the
 * provider issues, even one issued within the same second with the same claims. The access
 * token is left alone. Returns the planted token.
 */
function setIdTokenLife(ms: number): string {
  const data = JSON.parse(fs.readFileSync(credentialsFile(sandbox), 'utf8')) as { envs: Record<string, Stored> }
  const record = data.envs.corp!
  const [header, , signature] = record.idToken!.split('.')
  const exp = Math.floor((Date.now() + ms) / 1000)
  const claims = Buffer.from(JSON.stringify({ ...jwtClaims(record.idToken!), exp })).toString('base64url')
  record.idToken = `${header}.${claims}.${signature}`
  record.idExpiresAt = exp * 1000
  fs.writeFileSync(credentialsFile(sandbox), JSON.stringify(data), { mode: 0o600 })
  return record.idToken
}

/**
 * What a cluster's OIDC authenticator checks: the provider's signature (RS256 with a key of
 * its JWKS), the issuer, the audience (the client id) and the expiry.
 */
async function idTokenCheck(): Promise<(token: string) => boolean> {
  const { keys } = (await (await fetch(oidc.endpoints.jwks)).json()) as { keys: Array<JsonWebKey & { kid: string }> }
  return (token) => {
    const [header, payload, signature] = token.split('.')
    if (!header || !payload || !signature) return false
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: string }
    const key = keys.find((candidate) => candidate.kid === kid)
    if (!key) return false
    const data = Buffer.from(`${header}.${payload}`)
    if (!verify('RSA-SHA256', data, createPublicKey({ key, format: 'jwk' }), Buffer.from(signature, 'base64url')))
      return false
    const claims = jwtClaims(token)
    return claims.iss === oidc.issuer && claims.aud === PASSWORD_CLIENT_ID && (claims.exp as number) * 1000 > Date.now()
  }
}

const idTokenRun = (args: string[] = [], env: Record<string, string | undefined> = {}) =>
  run(['kube-credential', '-e', 'corp', '--id-token', ...args], { KUBERNETES_EXEC_INFO: EXEC_INFO, ...env })

describe('kube-credential --id-token', () => {
  test('the ID token the provider issued (for this client, from this issuer) with its exp; from the store, no request, the same bytes both ways', async () => {
    await loggedIn()
    const idToken = storedIdToken()
    const claims = jwtClaims(idToken)
    expect(claims).toMatchObject({ iss: oidc.issuer, aud: PASSWORD_CLIENT_ID, sub: 'alice' })
    expect(idToken).not.toBe(record().accessToken)
    const before = oidc.requests.length

    const { fast, full } = await runBothWays(sandbox, ['kube-credential', '-e', 'corp', '--id-token'], {
      ...FILE_STORE,
      KUBERNETES_EXEC_INFO: EXEC_INFO,
    })
    expect(fast.path).toBe('fast')
    expect({ ...fast, path: '' }).toEqual({ ...full, path: '' })
    expect(fast).toMatchObject({ code: 0, stderr: '', stdout: answerFor(idToken) })
    expect(oidc.requests.length).toBe(before)
  })

  test('the access token run low changes nothing: it is the ID token whose life counts', async () => {
    await loggedIn()
    // The provider's access tokens live 30 minutes, its ID tokens an hour.
    const result = await idTokenRun(['--min-ttl', '45m'])
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: answerFor(storedIdToken()) })
    expect(oidc.requests).toHaveLength(1)
  })

  test('an ID token within --min-ttl is refreshed first: the new one is printed and kept; then served from the store', async () => {
    await loggedIn()
    const old = setIdTokenLife(60_000)
    const result = await idTokenRun()
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(oidc.count('refresh_token')).toBe(1)
    const renewed = storedIdToken()
    expect(renewed).not.toBe(old)
    // The provider's own, just issued: its signature checks, and it has its hour ahead.
    expect((await idTokenCheck())(renewed)).toBe(true)
    expect(jwtClaims(renewed).exp as number).toBeGreaterThan(Date.now() / 1000 + 50 * 60)
    expect(result.stdout).toBe(answerFor(renewed))
    expect(record().idExpiresAt).toBe((jwtClaims(renewed).exp as number) * 1000)

    const again = await idTokenRun()
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: answerFor(renewed) })
    expect(oidc.count('refresh_token')).toBe(1)
  })

  test('a crowd of five at once with the ID token run low: one refresh, all print the same new ID token', async () => {
    await loggedIn()
    const old = setIdTokenLife(60_000)
    const results = await Promise.all(Array.from({ length: 5 }, () => idTokenRun()))
    expect(oidc.count('refresh_token')).toBe(1)
    expect(storedIdToken()).not.toBe(old)
    const answer = answerFor(storedIdToken())
    for (const result of results) expect(result).toMatchObject({ code: 0, stdout: answer })
  })

  test('an ID token past its exp is never handed out, whatever --min-ttl says', async () => {
    await loggedIn()
    const old = setIdTokenLife(-1_000)
    const result = await idTokenRun(['--min-ttl', '0s'])
    expect(result.code).toBe(0)
    expect(oidc.count('refresh_token')).toBe(1)
    expect(storedIdToken()).not.toBe(old)
    expect(result.stdout).toBe(answerFor(storedIdToken()))
  })

  test('an env whose scope has no openid: exit 2 with the fix, nothing on stdout, no request', async () => {
    await loggedIn('--scope', 'offline_access')
    expect(record().idToken).toBeUndefined()
    const before = oidc.requests.length
    const result = await idTokenRun()
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('"corp" gets no ID token: its scope ("offline_access") has no openid')
    expect(result.stderr).toContain('--scope "openid offline_access" --force, then tokenctl login -e corp')
    expect(oidc.requests.length).toBe(before)
  })

  test('a server that sends no ID token even after a new grant (client credentials): exit 2 with the fix, the grant saved', async () => {
    const add = await run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', SERVICE_CLIENT_ID])
    expect(add).toMatchObject({ code: 0 })
    const result = await idTokenRun([], { TOKENCTL_CLIENT_SECRET: SERVICE_CLIENT_SECRET })
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('sent no ID token')
    expect(oidc.count('client_credentials')).toBe(1)
    expect(record().accessToken).toEqual(expect.any(String))
    expect(result.stderr).not.toContain(record().accessToken!)
  })

  test('an api env: exit 2, "--id-token needs an oauth2 env", both ways alike, no request', async () => {
    const api = await startApiServer()
    try {
      expect(await run(['env', 'add', 'prod', '--url', api.url])).toMatchObject({ code: 0 })
      const login = await run(['login', '-e', 'prod', '--username', 'alice', '--password-stdin'], {}, 'wonderland\n')
      expect(login).toMatchObject({ code: 0 })
      const issued = api.issued().access.length
      const { fast, full } = await runBothWays(sandbox, ['kube-credential', '-e', 'prod', '--id-token'], {
        ...FILE_STORE,
        KUBERNETES_EXEC_INFO: EXEC_INFO,
      })
      expect(fast.path).toBe('full')
      expect(fast).toEqual(full)
      expect(fast).toMatchObject({ code: 2, stdout: '' })
      expect(fast.stderr).toContain('--id-token needs an oauth2 env; "prod" uses the api protocol')
      expect(api.issued().access.length).toBe(issued)
    } finally {
      await api.close()
    }
  })

  test('the ID token is in the store alone: not in the config, not on stderr, even with TOKENCTL_DEBUG=1', async () => {
    await loggedIn()
    const old = setIdTokenLife(60_000)
    const result = await idTokenRun([], { TOKENCTL_DEBUG: '1' })
    expect(result.code).toBe(0)
    const renewed = storedIdToken()
    for (const token of [old, renewed]) {
      expect(result.stderr).not.toContain(token)
      expect(fs.readFileSync(sandbox.configFile, 'utf8')).not.toContain(token)
    }
    expect(JSON.stringify(readConfig(sandbox))).not.toContain('idToken')
    expect(sandbox.filesContaining(renewed)).toEqual([credentialsFile(sandbox)])
  })
})

describe('setup-kube --id-token', () => {
  const kubeconfig = () => path.join(sandbox.dir, 'kubeconfig')
  const setup = (env: string, ...args: string[]) =>
    run(['setup-kube', '-e', env, '--kubeconfig', kubeconfig(), ...args])

  test("the entry's args end in --id-token, and so does its install hint; without the flag again, the entry goes back to the access token", async () => {
    await loggedIn()
    expect(await setup('corp', '--id-token')).toMatchObject({ code: 0, stdout: '' })
    const written = fs.readFileSync(kubeconfig(), 'utf8')
    expect(written).toContain(
      [
        '      - kube-credential',
        '      - -e',
        '      - corp',
        '      - --id-token',
        '      interactiveMode: IfAvailable',
      ].join('\n'),
    )
    expect(written).toContain('run: tokenctl setup-kube -e corp --id-token')
    // Idempotent with the flag; a run without it replaces the entry with the access-token one.
    expect((await setup('corp', '--id-token')).stderr).toContain('nothing to change')
    const back = await setup('corp')
    expect(back.stderr).toContain('replaced user "tokenctl-corp"')
    expect(fs.readFileSync(kubeconfig(), 'utf8')).not.toContain('--id-token')
  })

  test('an env that can have no ID token: exit 2 with the fix, and no kubeconfig written', async () => {
    await loggedIn('--scope', 'offline_access')
    const noOpenid = await setup('corp', '--id-token')
    expect(noOpenid).toMatchObject({ code: 2, stdout: '' })
    expect(noOpenid.stderr).toContain('"corp" gets no ID token: its scope ("offline_access") has no openid')
    expect(fs.existsSync(kubeconfig())).toBe(false)

    expect(await run(['env', 'add', 'prod', '--url', 'https://api.example.com'])).toMatchObject({ code: 0 })
    const api = await setup('prod', '--id-token')
    expect(api).toMatchObject({ code: 2, stdout: '' })
    expect(api.stderr).toContain('--id-token needs an oauth2 env; "prod" uses the api protocol')
    expect(fs.existsSync(kubeconfig())).toBe(false)

    // Asking to remove an entry has nothing to do with ID tokens: the two together are a usage error.
    const both = await setup('corp', '--id-token', '--unset')
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--unset|--id-token/)
  })
})

// The real kubectl: fails loudly here when it is missing rather than passing without it.
const haveKubectl = fs.existsSync(KUBECTL)
if (!haveKubectl) {
  process.stderr.write(`\n!!! ${KUBECTL} is missing: the real-kubectl test of kube-id-token.test.ts is SKIPPED !!!\n\n`)
}

;(haveKubectl ? describe : describe.skip)(`the real kubectl (${KUBECTL}) with --id-token`, () => {
  let kube: KubeApiServer

  afterEach(async () => kube?.close())

  test('kubectl gets the ID token from tokenctl and lists the namespaces with it', async () => {
    await loggedIn()
    const tls = makeTestCertificate(sandbox.dir)
    kube = await startKubeApiServer({ tls, isValidToken: await idTokenCheck() })
    const file = path.join(sandbox.dir, 'kubeconfig')
    writeTestKubeconfig(file, kube, tls.certFile)
    const setup = await run(['setup-kube', '-e', 'corp', '--kubeconfig', file, '--context', 'test', '--id-token'])
    expect(setup).toMatchObject({ code: 0, stdout: '' })
    expect(setup.stderr).toContain('added user "tokenctl-corp"')
    const result = await runProcess(KUBECTL, ['--kubeconfig', file, 'get', '--raw', '/api/v1/namespaces'], {
      env: sandbox.env(FILE_STORE),
      cwd: sandbox.dir,
    })
    expect(result).toMatchObject({ code: 0 })
    const list = JSON.parse(result.stdout) as { items: Array<{ metadata: { name: string } }> }
    expect(list.items.map((item) => item.metadata.name)).toEqual(NAMESPACES)
    const idToken = storedIdToken()
    expect(kube.requests.filter((request) => request.path === '/api/v1/namespaces')).toEqual([
      { method: 'GET', path: '/api/v1/namespaces', token: idToken, status: 200 },
    ])
    expect(result.stderr).not.toContain(idToken)
    // Not in the kubeconfig (whose args are kubectl's argv for tokenctl), nor anywhere but the store.
    expect(fs.readFileSync(file, 'utf8')).not.toContain(idToken)
    expect(sandbox.filesContaining(idToken)).toEqual([credentialsFile(sandbox)])
  })
})

/**
 * docker's credential helper end to end (docs/design.md#docker): docker-credential-tokenctl as docker
 * runs it, fed docker's exact bytes, against the JSON login API of test/support with the
 * plain-file store; and the real docker client (/usr/local/bin/docker) asking a registry
 * stub for a manifest with the token tokenctl gave it.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { ROOT, type RunResult, runCli, runProcess, Sandbox } from '../support/cli.js'
import { makeTestCertificate } from '../support/tls.js'

const HELPER = path.join(ROOT, 'bin', 'docker-credential-tokenctl.js')
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const REFRESH = '/auth/token/refresh'
const NOT_FOUND = 'credentials not found in native keychain\n'
const REGISTRY = 'registry.example.com:5000'
const store = { TOKENCTL_STORE: 'file' }

let sandbox: Sandbox
let server: ApiServer
/** Every helper run of a test: none may show a secret on stderr. */
let runs: RunResult[] = []

beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer()
  runs = []
  await ok(['env', 'add', 'prod', '--url', server.url, '--host', REGISTRY, '--git-host', 'Mirror.Example.com'])
})

afterEach(async () => {
  const secrets = secretsNow()
  for (const run of runs) for (const secret of secrets) expect(run.stderr).not.toContain(secret)
  await server.close()
  sandbox.cleanup()
})

async function ok(args: string[], input?: string): Promise<RunResult> {
  const result = await sandbox.run(args, { env: store, input })
  expect(result).toMatchObject({ code: 0 })
  return result
}

/** What docker runs: the helper with one verb, the address (or credentials) on stdin. */
async function helper(verb: string, input = '', env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const result = await runCli([verb], { bin: HELPER, env: sandbox.env({ ...store, ...env }), input })
  runs.push(result)
  return result
}

async function login(env = 'prod', user = 'alice'): Promise<void> {
  await ok(['login', '-e', env, '--username', user, '--password-stdin'], 'wonderland\n')
}

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
}

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
function stored(env = 'prod'): StoredRecord {
  if (!fs.existsSync(credentialsFile())) return {}
  return (
    (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }).envs[env] ?? {}
  )
}

function secretsNow(): string[] {
  if (!fs.existsSync(credentialsFile())) return []
  const envs = (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }).envs
  return Object.values(envs).flatMap((record) =>
    [record.accessToken, record.refreshToken].filter((s) => s !== undefined),
  )
}

/** The answer docker decodes, spelled out byte by byte here rather than built with the code under test. */
const answer = (serverUrl: string, user: string, token: string) =>
  `{"ServerURL":"${serverUrl}","Username":"${user}","Secret":"${token}"}\n`

describe('get', () => {
  test.each([
    ['host:port', REGISTRY],
    ['https:// and a path', `https://${REGISTRY}/v2/`],
    ['upper case, a trailing newline', `${REGISTRY.toUpperCase()}\n`],
    ['an extra host added as --git-host, in upper case', 'mirror.example.com'],
  ])('%s: the access token and the logged-in user', async (_, input) => {
    await login()
    const token = stored().accessToken!
    const result = await helper('get', input)
    expect(result).toEqual(
      expect.objectContaining({ code: 0, stderr: '', stdout: answer(input.trim(), 'alice', token) }),
    )
    expect(result.stdout).not.toContain(stored().refreshToken!)
  })

  test("the env URL's own host", async () => {
    await login()
    const host = new URL(server.url).host
    expect(await helper('get', host)).toEqual(
      expect.objectContaining({ code: 0, stdout: answer(host, 'alice', stored().accessToken!) }),
    )
  })

  test("the env URL's loopback host only as written: other spellings URL parsing would rewrite are not found", async () => {
    await login()
    const { port } = new URL(server.url)
    for (const spelling of [`2130706433:${port}`, `0177.0.0.1:${port}`, `0x7f.1:${port}`, `127.0.0.01:${port}`])
      expect(await helper('get', spelling)).toEqual(expect.objectContaining({ code: 1, stdout: NOT_FOUND }))
    for (const spelling of ['registry%2eexample.com:5000', '\uff52egistry.example.com:5000'])
      expect(await helper('get', spelling)).toEqual(expect.objectContaining({ code: 1, stdout: NOT_FOUND }))
    expect(await helper('get', `127.0.0.1:${port}`)).toMatchObject({ code: 0 })
  })

  test('not logged in: "not found" on stdout, exit 1, and the login to run on stderr', async () => {
    const result = await helper('get', REGISTRY)
    expect(result).toEqual(
      expect.objectContaining({
        code: 1,
        stdout: NOT_FOUND,
        stderr: 'tokenctl: Not logged in to "prod". Run: tokenctl login -e prod\n',
      }),
    )
  })

  test.each([
    ['another host', 'other.example.com'],
    ['our host on another port', 'registry.example.com:5001'],
    ['our host without its port', 'registry.example.com'],
    ['a control character', 'registry.example.com\u0001:5000'],
    ['a space', 'registry .example.com:5000'],
    ['user info', `alice@${REGISTRY}`],
    ['plain http to a host that is not loopback', `http://${REGISTRY}`],
    ['more than docker ever sends', `${REGISTRY}${'a'.repeat(70 * 1024)}`],
  ])('%s: "not found", exit 1, nothing refreshed or changed', async (_, input) => {
    await login()
    const before = fs.readFileSync(credentialsFile())
    const refreshes = server.count(REFRESH)
    const result = await helper('get', input)
    expect(result).toEqual(expect.objectContaining({ code: 1, stdout: NOT_FOUND, stderr: '' }))
    expect(server.count(REFRESH)).toBe(refreshes)
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
  })

  test('no address at all: docker\'s "no credentials server URL"', async () => {
    expect(await helper('get', ' \n')).toEqual(
      expect.objectContaining({ code: 1, stdout: 'no credentials server URL\n', stderr: '' }),
    )
  })
})

describe('which env answers', () => {
  beforeEach(async () => {
    await ok(['env', 'add', 'stage', '--url', server.url, '--host', REGISTRY, '--host', 'stage.example.com'])
    await login('prod', 'alice')
    await login('stage', 'alice')
  })

  test('two envs share a host: the current one answers, whichever it is', async () => {
    expect((await helper('get', REGISTRY)).stdout).toBe(answer(REGISTRY, 'alice', stored('prod').accessToken!))
    await ok(['env', 'use', 'stage'])
    expect((await helper('get', REGISTRY)).stdout).toBe(answer(REGISTRY, 'alice', stored('stage').accessToken!))
  })

  test("a host of another env than the current one: that env's", async () => {
    expect((await helper('get', 'stage.example.com')).stdout).toBe(
      answer('stage.example.com', 'alice', stored('stage').accessToken!),
    )
  })

  test('TOKENCTL_ENV forces one: it answers for its hosts, and a host not of it is not found', async () => {
    const forced = { TOKENCTL_ENV: 'stage' }
    expect((await helper('get', REGISTRY, forced)).stdout).toBe(answer(REGISTRY, 'alice', stored('stage').accessToken!))
    expect(await helper('get', 'mirror.example.com', forced)).toEqual(
      expect.objectContaining({ code: 1, stdout: NOT_FOUND }),
    )
  })

  test('TOKENCTL_ENV naming no env: the error on stdout, exit 1', async () => {
    const result = await helper('get', REGISTRY, { TOKENCTL_ENV: 'nope' })
    expect(result).toMatchObject({ code: 1, stderr: '' })
    expect(result.stdout).toMatch(/^Unknown env "nope"\. Known envs: prod, stage\. .*\n$/)
  })

  test('list: every host of every env with its user, sorted; the current env wins a shared host', async () => {
    await ok(['env', 'add', 'named', '--url', 'https://named.example.com', '--username', 'carol'])
    const api = new URL(server.url).host
    const expected = Object.fromEntries(
      [
        [api, 'x-access-token'],
        ['mirror.example.com', 'x-access-token'],
        ['named.example.com', 'carol'],
        [REGISTRY, 'x-access-token'],
        ['stage.example.com', 'x-access-token'],
      ].sort(([a], [b]) => (a! < b! ? -1 : 1)),
    )
    const requests = server.requests.length
    const result = await helper('list', 'unused')
    expect(result).toEqual(expect.objectContaining({ code: 0, stderr: '', stdout: `${JSON.stringify(expected)}\n` }))
    expect(server.requests).toHaveLength(requests)
  })
})

describe('erase, store, version, verbs', () => {
  test('erase drops the cached access token and keeps the refresh token; the next get refreshes', async () => {
    await login()
    const { accessToken, refreshToken } = stored()
    const refreshes = server.count(REFRESH)
    const erased = await helper('erase', `https://${REGISTRY}\n`)
    expect(erased).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(stored().accessToken).toBeUndefined()
    expect(stored().refreshToken).toBe(refreshToken)
    const audit = await ok(['audit', '--json'])
    expect((JSON.parse(audit.stdout) as Array<{ event: string }>).map((e) => e.event)).toContain('erase')

    const result = await helper('get', REGISTRY)
    expect(server.count(REFRESH)).toBe(refreshes + 1)
    const fresh = stored().accessToken!
    expect(fresh).not.toBe(accessToken)
    expect(result.stdout).toBe(answer(REGISTRY, 'alice', fresh))
  })

  test('erase for a host that is not ours: "not found", nothing changed', async () => {
    await login()
    const before = fs.readFileSync(credentialsFile())
    expect(await helper('erase', 'other.example.com')).toEqual(expect.objectContaining({ code: 1, stdout: NOT_FOUND }))
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
  })

  test('store for our host: accepted, nothing printed, nothing kept', async () => {
    await login()
    const before = fs.readFileSync(credentialsFile())
    const creds = JSON.stringify({ ServerURL: REGISTRY, Username: 'alice', Secret: 'docker-login-password' })
    expect(await helper('store', `${creds}\n`)).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
    expect(sandbox.filesContaining('docker-login-password')).toEqual([])
  })

  test.each([
    [
      'another host',
      JSON.stringify({ ServerURL: 'other.example.com', Username: 'a', Secret: 's' }),
      /^tokenctl keeps no credentials for other\.example\.com; remove "other\.example\.com": "tokenctl" from credHelpers in \/.*\/\.docker\/config\.json\.\n$/,
    ],
    ['no ServerURL', JSON.stringify({ Username: 'a', Secret: 's' }), /^no credentials server URL\n$/],
    ['no Username', JSON.stringify({ ServerURL: REGISTRY, Secret: 's' }), /^no credentials username\n$/],
    ['not JSON', 'registry.example.com', /^the credentials docker sent are not JSON\n$/],
  ])('store refused (%s): the reason on stdout, exit 1', async (_, input, stdout) => {
    const result = await helper('store', input)
    expect(result).toMatchObject({ code: 1, stderr: '' })
    expect(result.stdout).toMatch(stdout)
  })

  test('version: one line', async () => {
    expect(await helper('version')).toEqual(
      expect.objectContaining({ code: 0, stderr: '', stdout: `docker-credential-tokenctl (tokenctl) ${VERSION}\n` }),
    )
  })

  test("an unknown verb: the usage on stdout, exit 1 as docker's own helpers", async () => {
    expect(await helper('delete', REGISTRY)).toEqual(
      expect.objectContaining({
        code: 1,
        stderr: '',
        stdout:
          'Unknown credential action "delete". Usage: docker-credential-tokenctl <store|get|erase|list|version>\n',
      }),
    )
  })
})

// The real docker client: fails loudly here when it is missing rather than passing without it.
const DOCKER = '/usr/local/bin/docker'
const haveDocker = fs.existsSync(DOCKER)
if (!haveDocker) {
  process.stderr.write(
    `\n!!! ${DOCKER} is missing: the real-docker test of docker-credential.test.ts is SKIPPED !!!\n\n`,
  )
}

;(haveDocker ? describe : describe.skip)(`the real docker client (${DOCKER})`, () => {
  const IMAGE_CONFIG = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })
  const MANIFEST = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: IMAGE_CONFIG.length,
      digest: `sha256:${createHash('sha256').update(IMAGE_CONFIG).digest('hex')}`,
    },
    layers: [],
  })
  let registry: https.Server
  let seen: Array<{ path: string; authorization?: string }>

  beforeEach(async () => {
    seen = []
    const tls = makeTestCertificate(sandbox.dir)
    // Just enough of a registry: /v2/ asks for basic auth, a manifest is served to whoever sends any.
    registry = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization })
      if (!req.headers.authorization) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"', 'Content-Length': '0' }).end()
        return
      }
      if (req.url?.includes('/blobs/')) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(IMAGE_CONFIG)
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' }).end(MANIFEST)
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
  })

  afterEach(async () => new Promise<void>((resolve) => registry.close(() => resolve())))

  test('setup-docker, then docker asks tokenctl and sends the token to the registry', async () => {
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`
    await ok(['env', 'add', 'reg', '--url', server.url, '--host', host])
    await login('reg', 'alice')
    // The helper on PATH as npm would link it, and the Node running this test first on PATH for its #!.
    const bin = path.join(sandbox.dir, 'path-bin')
    fs.mkdirSync(bin)
    fs.symlinkSync(HELPER, path.join(bin, 'docker-credential-tokenctl'))
    const PATH = [bin, path.dirname(process.execPath), process.env.PATH].join(path.delimiter)
    const setup = await sandbox.run(['setup-docker', '-e', 'reg', '--json'], { env: { ...store, PATH } })
    expect(setup).toMatchObject({ code: 0 })
    expect(JSON.parse(setup.stdout)).toMatchObject({ helperOnPath: path.join(bin, 'docker-credential-tokenctl') })

    const result = await runProcess(DOCKER, ['manifest', 'inspect', '--insecure', `${host}/team/app:1`], {
      env: sandbox.env({ ...store, PATH }),
      cwd: sandbox.dir,
    })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout)).toMatchObject({ schemaVersion: 2 })
    const token = stored('reg').accessToken!
    const basic = `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`
    expect(seen.filter((request) => request.authorization !== undefined).map((r) => r.authorization)).toContain(basic)
    expect(seen.every((request) => request.authorization === undefined || request.authorization === basic)).toBe(true)
    expect(result.stderr).not.toContain(token)
  })
})

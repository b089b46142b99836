/**
 * terraform's credentials helper end to end (docs/design.md#terraform): terraform-credentials-tokenctl
 * as terraform runs it, byte for byte, against the JSON login API of test/support with the
 * plain-file store; and the real terraform (/usr/local/bin/terraform) finding it in
 * ~/.terraform.d/plugins: `terraform init` sends its token to a module registry stub, and
 * `terraform logout` makes it drop the cached access token.
 */
import fs from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { ROOT, type RunResult, runCli, runProcess, Sandbox } from '../support/cli.js'
import { makeTestCertificate } from '../support/tls.js'

const HELPER = path.join(ROOT, 'bin', 'terraform-credentials-tokenctl.js')
const REFRESH = '/auth/token/refresh'
const REGISTRY = 'registry.example.com'
const store = { TOKENCTL_STORE: 'file' }

let sandbox: Sandbox
let server: ApiServer
let runs: RunResult[] = []

beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer()
  runs = []
  await ok(['env', 'add', 'prod', '--url', server.url, '--host', REGISTRY])
})

afterEach(async () => {
  for (const run of runs) for (const secret of secretsNow()) expect(run.stderr).not.toContain(secret)
  await server.close()
  sandbox.cleanup()
})

async function ok(args: string[], input?: string): Promise<RunResult> {
  const result = await sandbox.run(args, { env: store, input })
  expect(result).toMatchObject({ code: 0 })
  return result
}

/** What terraform runs: the helper with the block's args, a verb and a host. */
async function helper(args: string[], input = '', env: Record<string, string> = {}): Promise<RunResult> {
  const result = await runCli(args, { bin: HELPER, env: sandbox.env({ ...store, ...env }), input })
  runs.push(result)
  return result
}

const login = (env = 'prod') => ok(['login', '-e', env, '--username', 'alice', '--password-stdin'], 'wonderland\n')

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
}
const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
function stored(env = 'prod'): StoredRecord {
  return (
    (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }).envs[env] ?? {}
  )
}
function secretsNow(): string[] {
  if (!fs.existsSync(credentialsFile())) return []
  const envs = (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }).envs
  return Object.values(envs).flatMap((r) => [r.accessToken, r.refreshToken].filter((s) => s !== undefined))
}

describe('the protocol, byte for byte', () => {
  test('get HOST: {"token":…} and a newline, exit 0, nothing on stderr', async () => {
    await login()
    const result = await helper(['get', REGISTRY])
    expect(result).toEqual(
      expect.objectContaining({ code: 0, stderr: '', stdout: `{"token":"${stored().accessToken}"}\n` }),
    )
  })

  test("get for the env URL's host, in upper case as a person may write it", async () => {
    await login()
    const host = new URL(server.url).host
    expect((await helper(['get', host.toUpperCase()])).stdout).toBe(`{"token":"${stored().accessToken}"}\n`)
  })

  test("the env URL's loopback host only as written: a spelling URL parsing would rewrite is nobody's", async () => {
    await login()
    const { port } = new URL(server.url)
    const requests = server.requests.length
    for (const spelling of [`0x7f.1:${port}`, `2130706433:${port}`, `127.0.0.01:${port}`, 'registry%2eexample.com'])
      expect(await helper(['get', spelling])).toEqual(expect.objectContaining({ code: 0, stdout: '{}\n', stderr: '' }))
    const before = fs.readFileSync(credentialsFile())
    expect(await helper(['forget', `0x7f.1:${port}`])).toEqual(
      expect.objectContaining({ code: 0, stdout: '', stderr: '' }),
    )
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
    expect(server.requests).toHaveLength(requests)
  })

  test('get for a host tokenctl has nothing for: {} exit 0, no request made', async () => {
    await login()
    const requests = server.requests.length
    expect(await helper(['get', 'other.example.com'])).toEqual(
      expect.objectContaining({ code: 0, stdout: '{}\n', stderr: '' }),
    )
    expect(server.requests).toHaveLength(requests)
  })

  test('get when a login is needed: {} exit 0, and the login to run on stderr', async () => {
    expect(await helper(['get', REGISTRY])).toEqual(
      expect.objectContaining({
        code: 0,
        stdout: '{}\n',
        stderr: 'tokenctl: Not logged in to "prod". Run: tokenctl login -e prod\n',
      }),
    )
  })

  test('store HOST reads stdin to the end, keeps nothing, prints nothing', async () => {
    await login()
    const before = fs.readFileSync(credentialsFile())
    const big = JSON.stringify({ token: `terraform-login-token-${'x'.repeat(200 * 1024)}` })
    expect(await helper(['store', REGISTRY], big)).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
    expect(sandbox.filesContaining('terraform-login-token-')).toEqual([])
  })

  test('forget HOST drops the cached access token, keeps the refresh token; the next get refreshes', async () => {
    await login()
    const { accessToken, refreshToken } = stored()
    const refreshes = server.count(REFRESH)
    expect(await helper(['forget', REGISTRY])).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(stored()).toEqual(expect.objectContaining({ refreshToken }))
    expect(stored().accessToken).toBeUndefined()
    // The audit log says so, as for git's erase.
    const audit = JSON.parse((await ok(['audit', '--json'])).stdout) as Array<{ event: string; env: string }>
    expect(audit.filter((entry) => entry.event === 'erase')).toEqual([expect.objectContaining({ env: 'prod' })])
    const next = await helper(['get', REGISTRY])
    expect(server.count(REFRESH)).toBe(refreshes + 1)
    expect(stored().accessToken).not.toBe(accessToken)
    expect(next.stdout).toBe(`{"token":"${stored().accessToken}"}\n`)
  })

  test('forget for a host that is not ours: exit 0, nothing changed', async () => {
    await login()
    const before = fs.readFileSync(credentialsFile())
    expect(await helper(['forget', 'other.example.com'])).toEqual(
      expect.objectContaining({ code: 0, stdout: '', stderr: '' }),
    )
    expect(fs.readFileSync(credentialsFile()).equals(before)).toBe(true)
  })

  test('an unknown verb: an error on stderr, exit 2, nothing on stdout', async () => {
    const result = await helper(['list', REGISTRY])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('terraform-credentials-tokenctl does not know the verb "list".')
  })

  test('no arguments: one sentence and the fix on stderr, exit 2, not the whole usage', async () => {
    expect(await helper([])).toEqual(
      expect.objectContaining({
        code: 2,
        stdout: '',
        stderr:
          'Error: terraform-credentials-tokenctl needs a verb and a host.\nterraform runs it as: terraform-credentials-tokenctl get|store|forget HOST\n',
      }),
    )
  })

  test.each([
    ['no host', ['get']],
    ['a host with a space', ['get', 'registry example.com']],
    ['a host with a control character', ['get', 'registry\u0001.example.com']],
  ])('%s: a usage error on stderr, exit 2', async (_, args) => {
    const result = await helper(args)
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toMatch(/^Error: /)
  })

  test('two envs share a host: the current one; TOKENCTL_ENV or the args "-e ENV" force one', async () => {
    await ok(['env', 'add', 'stage', '--url', server.url, '--host', REGISTRY])
    await login('prod')
    await login('stage')
    const token = (env: string) => `{"token":"${stored(env).accessToken}"}\n`
    expect(stored('prod').accessToken).not.toBe(stored('stage').accessToken)
    expect((await helper(['get', REGISTRY])).stdout).toBe(token('prod'))
    expect((await helper(['get', REGISTRY], '', { TOKENCTL_ENV: 'stage' })).stdout).toBe(token('stage'))
    expect((await helper(['-e', 'stage', 'get', REGISTRY])).stdout).toBe(token('stage'))
    await ok(['env', 'use', 'stage'])
    expect((await helper(['get', REGISTRY])).stdout).toBe(token('stage'))
    // Forced to an env that does not have the host: nothing.
    expect(
      (await helper(['get', new URL(server.url).host.replace(/:\d+$/, ':1')], '', { TOKENCTL_ENV: 'prod' })).stdout,
    ).toBe('{}\n')
  })
})

// The real terraform: fails loudly here when it is missing rather than passing without it.
const TERRAFORM = '/usr/local/bin/terraform'
const haveTerraform = fs.existsSync(TERRAFORM)
if (!haveTerraform) {
  process.stderr.write(
    `\n!!! ${TERRAFORM} is missing: the real-terraform tests of terraform-credential.test.ts are SKIPPED !!!\n\n`,
  )
}

;(haveTerraform ? describe : describe.skip)(`the real terraform (${TERRAFORM})`, () => {
  let registry: https.Server
  let seen: Array<{ path: string; authorization?: string }>
  let host: string
  let certFile: string

  beforeEach(async () => {
    seen = []
    const tls = makeTestCertificate(sandbox.dir, 'DNS:localhost,IP:127.0.0.1')
    certFile = tls.certFile
    // A module registry: discovery, then the versions of one module, each request logged.
    registry = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization })
      const json = (value: unknown) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(value))
      if (req.url === '/.well-known/terraform.json') return json({ 'modules.v1': '/v1/modules/' })
      if (req.url === '/v1/modules/team/app/null/versions') return json({ modules: [{ versions: [] }] })
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    // An address, not localhost: terraform would read `localhost:PORT/…` as a URL scheme, not a registry.
    host = `127.0.0.1:${(registry.address() as AddressInfo).port}`
    await ok(['env', 'add', 'tf', '--url', server.url, '--host', host])
    // Where terraform looks for credentials helpers, and the CLI configuration that names ours.
    const plugins = path.join(sandbox.home, '.terraform.d', 'plugins')
    fs.mkdirSync(plugins, { recursive: true })
    fs.symlinkSync(HELPER, path.join(plugins, 'terraform-credentials-tokenctl'))
    fs.writeFileSync(path.join(sandbox.home, '.terraformrc'), 'credentials_helper "tokenctl" {\n  args = []\n}\n')
  })

  afterEach(async () => new Promise<void>((resolve) => registry.close(() => resolve())))

  const terraform = (args: string[], cwd = sandbox.dir) =>
    runProcess(TERRAFORM, args, {
      env: sandbox.env({
        ...store,
        TF_CLI_CONFIG_FILE: path.join(sandbox.home, '.terraformrc'),
        CHECKPOINT_DISABLE: '1',
        TF_IN_AUTOMATION: '1',
        SSL_CERT_FILE: certFile,
        // The Node running this test first on PATH, for the helper's #!.
        PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      }),
      cwd,
      timeoutMs: 60_000,
    })

  test('terraform init asks tokenctl and sends the token to the module registry', async () => {
    await login('tf')
    const work = path.join(sandbox.dir, 'work')
    fs.mkdirSync(work)
    fs.writeFileSync(path.join(work, 'main.tf'), `module "app" {\n  source = "${host}/team/app/null"\n}\n`)
    const result = await terraform(['init', '-input=false', '-no-color'], work)
    // No versions to install: init fails after asking, which is all this test needs of it.
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('has no versions available')
    const token = stored('tf').accessToken!
    expect(seen.find((request) => request.path === '/v1/modules/team/app/null/versions')).toEqual({
      path: '/v1/modules/team/app/null/versions',
      authorization: `Bearer ${token}`,
    })
    expect(result.stdout + result.stderr).not.toContain(token)
  })

  test('terraform logout runs forget: the cached access token is dropped, the next token refreshes', async () => {
    await login('tf')
    const { refreshToken } = stored('tf')
    const refreshes = server.count(REFRESH)
    const result = await terraform(['logout', host, '-no-color'])
    expect(result).toMatchObject({ code: 0 })
    expect(result.stdout).toContain(`Removing the stored credentials for ${host} from the configured`)
    expect(stored('tf').accessToken).toBeUndefined()
    expect(stored('tf').refreshToken).toBe(refreshToken)
    await ok(['token', '-e', 'tf'])
    expect(server.count(REFRESH)).toBe(refreshes + 1)
  })
})

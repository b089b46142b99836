/**
 * curl end to end (docs/design.md#git-and-curl, docs/design.md#secrets-never-leak): the two ways the README shows to hand curl a token without
 * putting it in curl's argv, run as a user would type them in bash, against the login API
 * server's protected `GET /api/me`. `curl` on PATH is a shim that logs the argv it was given
 * (what /proc/<pid>/cmdline would show) and then execs the real curl, so the test sees the
 * process list exactly as another user on the machine could.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, runProcess, Sandbox } from '../support/cli.js'

const runFile = promisify(execFile)
const ENV = 'prod'

interface ShellResult {
  code: number | null
  stdout: string
  stderr: string
}

let realCurl: string
let sandbox: Sandbox
let api: ApiServer
let binDir: string
let argvLog: string

beforeAll(async () => {
  // Fails the suite loudly (not a skip) when curl or bash is missing: CI installs them.
  try {
    realCurl = (await runFile('bash', ['-c', 'command -v curl'])).stdout.trim()
  } catch (error) {
    throw new Error(`curl (and bash) are required for this test: ${(error as Error).message}`)
  }
  if (!realCurl) throw new Error('curl is required for this test (install curl)')
})

beforeEach(async () => {
  sandbox = new Sandbox()
  api = await startApiServer()
  binDir = path.join(sandbox.dir, 'bin')
  fs.mkdirSync(binDir)
  argvLog = path.join(sandbox.dir, 'curl-argv.log')
  // `tokenctl` as an installed user would have it on PATH.
  writeScript('tokenctl', `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`)
  // The curl shim: one line per run, its arguments NUL-separated, then the real curl.
  writeScript(
    'curl',
    `#!/bin/sh\nprintf '%s\\0' "$@" >> '${argvLog}'\nprintf '\\n' >> '${argvLog}'\nexec '${realCurl}' "$@"\n`,
  )

  expect(await shell(`tokenctl env add ${ENV} --url "$API_URL"`)).toMatchObject({ code: 0 })
  expect(
    await shell(`printf 'wonderland\\n' | tokenctl login -e ${ENV} --username alice --password-stdin`),
  ).toMatchObject({ code: 0, stdout: '' })
})

afterEach(async () => {
  await api?.close()
  sandbox?.cleanup()
})

function writeScript(name: string, text: string): void {
  fs.writeFileSync(path.join(binDir, name), text, { mode: 0o755 })
}

/** `bash -c script` in the sandbox, with the shims first on PATH and the server's URLs in variables. */
function shell(script: string): Promise<ShellResult> {
  const env = sandbox.env({
    TOKENCTL_STORE: 'file',
    TOKENCTL_ENV: ENV,
    PATH: [binDir, path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
    API_URL: api.url,
    ME_URL: `${api.url}/api/me`,
  })
  return runProcess('bash', ['-c', script], { env })
}

/** The argv of every curl run so far, one array per run (without argv[0]). */
function curlRuns(): string[][] {
  if (!fs.existsSync(argvLog)) return []
  return fs
    .readFileSync(argvLog, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\0').slice(0, -1))
}

function storedToken(): string {
  const data = JSON.parse(fs.readFileSync(path.join(sandbox.configDir, 'credentials.json'), 'utf8')) as {
    envs: Record<string, { accessToken?: string }>
  }
  const token = data.envs[ENV]?.accessToken
  if (!token) throw new Error('no stored access token')
  return token
}

const PIPED = 'set -o pipefail; tokenctl token -f header | curl -sf -H @- "$ME_URL"'
const CONFIG = 'curl -sf -K <(tokenctl token -f curl) "$ME_URL"'

test('the endpoint is protected: curl without a token is refused (exit 22)', async () => {
  const result = await shell('curl -sf "$ME_URL"')
  expect(result).toMatchObject({ code: 22, stdout: '' })
})

test.each([
  ['tokenctl token -f header | curl -H @-', PIPED, ['-sf', '-H', '@-']],
  [
    'curl -K <(tokenctl token -f curl)',
    CONFIG,
    ['-sf', '-K', expect.stringMatching(/^\/dev\/fd\/\d+$|^\/proc\/self\/fd\/\d+$/)],
  ],
])('%s: curl gets in as alice, and the token is never in its argv', async (_name, script, argv) => {
  const result = await shell(script)
  expect(result).toMatchObject({ code: 0, stdout: '{"user":"alice"}', stderr: '' })

  const token = storedToken()
  expect(api.isAccessTokenActive(token)).toBe(true)
  // The command line we built has no token: it only travels through a pipe or a /dev/fd file.
  expect(script).not.toContain(token)
  // And the curl process really got none in its argv.
  const runs = curlRuns()
  expect(runs).toEqual([[...argv, `${api.url}/api/me`]])
  for (const arg of runs[0] ?? []) expect(arg).not.toContain(token)
  // curl sent it, in the header the server read.
  const seen = api.requests.filter((r) => r.path === '/api/me')
  expect(seen.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`])
})

test("control: $(tokenctl token) works too, but puts the token in curl's argv, which the shim sees", async () => {
  const result = await shell('curl -sf -H "Authorization: Bearer $(tokenctl token)" "$ME_URL"')
  expect(result).toMatchObject({ code: 0, stdout: '{"user":"alice"}' })
  const token = storedToken()
  expect(curlRuns()).toEqual([['-sf', '-H', `Authorization: Bearer ${token}`, `${api.url}/api/me`]])
})

test('after the server revokes the access token, --force-refresh in the pipe gets curl in again', async () => {
  const old = storedToken()
  api.expireAccessTokens()
  const refused = await shell(PIPED)
  expect(refused.code).toBe(22)
  const result = await shell('set -o pipefail; tokenctl token --force-refresh -f header | curl -sf -H @- "$ME_URL"')
  expect(result).toMatchObject({ code: 0, stdout: '{"user":"alice"}' })
  expect(storedToken()).not.toBe(old)
  expect(api.count('/auth/token/refresh')).toBe(1)
})

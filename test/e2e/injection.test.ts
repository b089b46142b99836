/**
 * A hostile or broken server cannot inject anything (docs/design.md#secrets-never-leak): a token with a
 * line break, a quote, a `;`, a `$()` or 20 KiB of data is refused with exit 5 on every
 * path that takes a token from a server — login, refresh, `token` in every format,
 * `git-credential get`, `exec` — and nothing reaches stdout, the store, or the child.
 * Then the transport rules: answers over 1 MiB are cut off, redirects are not followed,
 * and an https env does not go to plain http. The built CLI against the real test server.
 */
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, Sandbox } from '../support/cli.js'
import { makeTestCertificate } from '../support/tls.js'

const ENV = 'prod'
const LOGIN = '/auth/token'
const REFRESH = '/auth/token/refresh'

/**
 * What a server could send instead of a token. The payloads only ever try to create a
 * file named `pwned` in the working dir: if one got through, the test finds the file.
 */
const BAD_TOKENS: Array<[string, string]> = [
  ['a line break', 'eyJhbGciOi.abc\npassword=stolen'],
  ['a single quote', "eyJhbGciOi.abc'; touch pwned; '"],
  ['a double quote', 'eyJhbGciOi.abc"\nheader = "X-Evil: 1'],
  ['a semicolon', 'eyJhbGciOi.abc;touch pwned'],
  ['a command substitution', 'eyJhbGciOi.abc$(touch pwned)'],
  ['20 KiB of data', `eyJhbGciOi.${'A'.repeat(20 * 1024)}`],
]

let sandbox: Sandbox
let server: ApiServer

// The server keeps one refresh token for good (no rotation), so that every path can be
// tried in turn against the same login.
beforeEach(async () => {
  sandbox = new Sandbox()
  server = await startApiServer({ rotate: false })
  expect(await run(['env', 'add', ENV, '--url', server.url])).toMatchObject({ code: 0 })
})
afterEach(async () => {
  await server.close()
  sandbox.cleanup()
})

function run(args: string[], input?: string): Promise<RunResult> {
  return sandbox.run(args, { env: { TOKENCTL_STORE: 'file' }, input })
}

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
const pwned = () => fs.existsSync(path.join(sandbox.dir, 'pwned')) || fs.existsSync(path.join(process.cwd(), 'pwned'))
const childRan = () => path.join(sandbox.dir, 'child-ran')

/** Every way a token from the server leaves tokenctl, each as the command line and its input. */
function paths(): Array<[string, string[], string | undefined]> {
  const host = new URL(server.url).host
  return [
    ['refresh', ['refresh', '--print'], undefined],
    ['token', ['token', '--force-refresh'], undefined],
    ['token -f header', ['token', '--force-refresh', '-f', 'header'], undefined],
    ['token -f json', ['token', '--force-refresh', '-f', 'json'], undefined],
    ['token -f env', ['token', '--force-refresh', '-f', 'env'], undefined],
    ['token -f curl', ['token', '--force-refresh', '-f', 'curl'], undefined],
    ['git-credential get', ['git-credential', 'get'], `protocol=http\nhost=${host}\n\n`],
    [
      'exec',
      [
        'exec',
        '--',
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(childRan())}, process.env.TOKENCTL_TOKEN)`,
      ],
      undefined,
    ],
  ]
}

/** The refusal: exit 5, nothing on stdout, a message that names the problem and not the token. */
function expectRefused(result: RunResult, bad: string): void {
  expect(result).toMatchObject({ code: 5, stdout: '' })
  expect(result.stderr).toMatch(
    /sent an? (access|refresh) token that is not a valid bearer token \((characters outside RFC 6750|longer than 16 KiB)\); it was refused\./,
  )
  expect(result.stderr).not.toContain(bad)
  expect(result.stderr).not.toContain(bad.slice(11))
  expect(pwned()).toBe(false)
}

/** Logs in with honest tokens, then lets the access token run out so every path must refresh. */
async function loginNormally(): Promise<Buffer> {
  expect(await run(['login', '--username', 'alice', '--password-stdin'], 'wonderland\n')).toMatchObject({
    code: 0,
    stdout: '',
  })
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8'))
  data.envs[ENV].accessExpiresAt = Date.now() - 60_000
  fs.writeFileSync(credentialsFile(), JSON.stringify(data), { mode: 0o600 })
  return fs.readFileSync(credentialsFile())
}

describe.each(['access', 'refresh'] as const)('a server that sends an unsafe %s token', (kind) => {
  test.each(BAD_TOKENS)('with %s: login is refused (exit 5) and nothing is stored', async (_name, bad) => {
    server.overrideTokens({ [kind === 'access' ? 'accessToken' : 'refreshToken']: bad, path: LOGIN })
    const result = await run(['login', '--username', 'alice', '--password-stdin'], 'wonderland\n')
    expectRefused(result, bad)
    expect(fs.existsSync(credentialsFile())).toBe(false)
    expect(sandbox.filesContaining(bad.slice(11))).toEqual([])
  })

  test.each(BAD_TOKENS)(
    'with %s: every path that refreshes is refused, prints nothing, stores nothing, runs nothing',
    async (_name, bad) => {
      const stored = await loginNormally()
      server.overrideTokens({ [kind === 'access' ? 'accessToken' : 'refreshToken']: bad, path: REFRESH })
      for (const [name, args, input] of paths()) {
        const result = await run(args, input)
        try {
          expectRefused(result, bad)
        } catch (error) {
          throw new Error(`${name}: ${(error as Error).message}\nstderr: ${result.stderr}`)
        }
        expect(fs.readFileSync(credentialsFile())).toEqual(stored)
        expect(fs.existsSync(childRan())).toBe(false)
      }
      expect(sandbox.filesContaining(bad.slice(11))).toEqual([])
    },
    180_000,
  )
})

test('the same paths with an honest server all work (the refusals above are about the token)', async () => {
  await loginNormally()
  for (const [name, args, input] of paths()) {
    const result = await run(args, input)
    expect({ name, code: result.code }).toEqual({ name, code: 0 })
    if (name !== 'exec') expect(result.stdout).not.toBe('')
  }
  expect(fs.existsSync(childRan())).toBe(true)
}, 120_000)

describe('transport', () => {
  test('an answer over 1 MiB is cut off and refused: exit 5, nothing stored', async () => {
    server.setFailure('huge', { path: LOGIN })
    const result = await run(['login', '--username', 'alice', '--password-stdin'], 'wonderland\n')
    expect(result).toMatchObject({ code: 5, stdout: '' })
    expect(result.stderr).toContain('sent an answer larger than 1 MiB; it was cut off.')
    expect(fs.existsSync(credentialsFile())).toBe(false)
  })

  test('a redirect is not followed: exit 5, and its target never hears of us', async () => {
    const target = await countingServer()
    try {
      const redirecting = await startApiServer({ redirectTo: `${target.url}/auth/token` })
      try {
        expect(await run(['env', 'add', 'moved', '--url', redirecting.url])).toMatchObject({ code: 0 })
        redirecting.setFailure('redirect')
        const result = await run(['login', '-e', 'moved', '--username', 'alice', '--password-stdin'], 'wonderland\n')
        expect(result).toMatchObject({ code: 5, stdout: '' })
        expect(result.stderr).toContain(
          'answered with a redirect (HTTP 307), which tokenctl does not follow for token requests.',
        )
        expect(redirecting.count(LOGIN)).toBe(1)
        expect(target.hits()).toBe(0)
      } finally {
        await redirecting.close()
      }
    } finally {
      await target.close()
    }
  })

  test('an https env that is sent to plain http does not go there', async () => {
    const tls = makeTestCertificate(sandbox.dir)
    const plain = await countingServer()
    const secure = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      req.resume()
      res.writeHead(307, { location: `${plain.url}/auth/token` }).end()
    })
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve))
    try {
      const url = `https://localhost:${(secure.address() as AddressInfo).port}`
      expect(await run(['env', 'add', 'tls', '--url', url])).toMatchObject({ code: 0 })
      const result = await sandbox.run(['login', '-e', 'tls', '--username', 'alice', '--password-stdin'], {
        env: { TOKENCTL_STORE: 'file', NODE_EXTRA_CA_CERTS: tls.certFile },
        input: 'wonderland\n',
      })
      expect(result).toMatchObject({ code: 5, stdout: '' })
      expect(result.stderr).toContain('answered with a redirect (HTTP 307)')
      expect(plain.hits()).toBe(0)
      // And a plain-http URL for a host that is not loopback is refused before any request.
      const added = await run(['env', 'add', 'plain', '--url', 'http://auth.example.com'])
      expect(added.code).toBe(2)
      expect(added.stderr).toContain('which would send tokens unencrypted')
    } finally {
      secure.closeAllConnections()
      await new Promise((resolve) => secure.close(resolve))
      await plain.close()
    }
  })
})

async function countingServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0
  const server = http.createServer((req, res) => {
    hits++
    req.resume()
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end('{"data":{"token":"from-the-wrong-place","refreshToken":"r"}}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

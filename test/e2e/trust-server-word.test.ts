/**
 * Whose word tokenctl takes, end to end: the built CLI against the real `api` test server.
 *
 * - Only the auth server's own JSON error rejects a login or a refresh token. A firewall's
 *   or proxy's HTML page, whatever its status, is a server failure (exit 5): the stored
 *   login stays whole and it does not count toward the failed-attempts warning.
 * - A secret a server echoes back encoded (base64, base64url, percent) is masked like the
 *   literal one.
 * - A token lifetime that is not a finite number is refused (exit 5), nothing stored.
 * - Plain http goes only to a loopback address, whatever the name says.
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import path from 'node:path'

import { type ApiServer, type ApiServerOptions } from '../support/api-server.js'
import { type RunResult } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'

const PASSWORD = 'trust-word-Pa55word+/='
const LOGIN = '/auth/token'
const REFRESH = '/auth/token/refresh'
const WARNING = /in the last 15 minutes/
// Each test runs several CLI processes one after the other on a shared two-core machine.
const SLOW = 120_000

interface StoredRecord {
  accessToken?: string
  refreshToken?: string
  accessExpiresAt?: number
}

interface AuditLine {
  env: string
  event: string
  outcome: string
  reason?: string
  exitCode?: number
}

const fixture = useFileStoreFixture({ users: { alice: PASSWORD } })
const { serve, run } = fixture

function login(env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run(['login', '-e', 'dev', '--username', 'alice', '--password-stdin'], env, `${PASSWORD}\n`)
}

async function loggedIn(options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = await serve(options)
  expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
  expect(await login()).toMatchObject({ code: 0 })
  return server
}

const credentialsFile = () => path.join(fixture.sandbox.configDir, 'credentials.json')

function stored(): StoredRecord | undefined {
  if (!fs.existsSync(credentialsFile())) return undefined
  return (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> }).envs.dev
}

function auditLines(): AuditLine[] {
  const file = path.join(fixture.sandbox.home, '.local', 'state', 'tokenctl', 'audit.log')
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine)
}

describe("a firewall's HTML page is not the server's word", () => {
  test(
    'an HTML 403 on refresh: exit 5, the stored login stays whole and still serves, three of them do not warn',
    async () => {
      const server = await loggedIn()
      const before = stored()!
      const bytes = fs.readFileSync(credentialsFile())
      server.setFailure('html:403', { path: REFRESH })

      const forced = await run(['token', '--force-refresh'])
      expect(forced).toMatchObject({ code: 5, stdout: '' })
      expect(forced.stderr).toContain("answered HTTP 403 with text/html, not with the server's JSON error")
      expect(forced.stderr).toContain('proxy or firewall')
      expect(forced.stderr).not.toContain('tokenctl login')
      // Nothing deleted: the refresh token and the still-valid access token are where they were.
      expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
      expect(stored()?.refreshToken).toBe(before.refreshToken)

      const token = await run(['token'])
      expect(token).toMatchObject({ code: 0, stdout: `${before.accessToken}\n` })
      expect(server.count(REFRESH)).toBe(1)

      for (let i = 0; i < 2; i++) expect(await run(['refresh'])).toMatchObject({ code: 5 })
      expect(server.count(REFRESH)).toBe(3)
      expect(stored()?.refreshToken).toBe(before.refreshToken)
      const refreshes = auditLines().filter((line) => line.event === 'refresh')
      expect(refreshes).toHaveLength(3)
      expect(
        refreshes.every(
          (line) => line.outcome === 'failure' && line.exitCode === 5 && line.reason === 'server or network failure',
        ),
      ).toBe(true)
      const status = await run(['status'])
      expect(status.code).toBe(0)
      expect(status.stderr).not.toMatch(WARNING)

      // The kept refresh token was good all along: once the firewall lets it through, it works.
      server.setFailure(undefined)
      expect(await run(['refresh'])).toMatchObject({ code: 0 })
      expect(server.isRefreshTokenActive(before.refreshToken!)).toBe(false)
      expect(stored()?.refreshToken).not.toBe(before.refreshToken)
    },
    SLOW,
  )

  test(
    'an HTML 403 while refreshing an expiring token (token, refresh --print): exit 5, nothing deleted',
    async () => {
      const server = await loggedIn({ accessTtl: 60 })
      const bytes = fs.readFileSync(credentialsFile())
      server.setFailure('html:403', { path: REFRESH })
      expect(await run(['token'])).toMatchObject({ code: 5, stdout: '' })
      expect(await run(['refresh', '--print'])).toMatchObject({ code: 5, stdout: '' })
      expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
    },
    SLOW,
  )

  test(
    'a gateway\'s JSON 403 ({"message":"Forbidden"}, no error code) on refresh: exit 5, the stored login stays',
    async () => {
      const server = await loggedIn()
      const before = stored()!
      const bytes = fs.readFileSync(credentialsFile())
      server.setFailure('gateway:403', { path: REFRESH })

      const forced = await run(['token', '--force-refresh'])
      expect(forced).toMatchObject({ code: 5, stdout: '' })
      expect(forced.stderr).not.toContain('tokenctl login')
      expect(fs.readFileSync(credentialsFile())).toEqual(bytes)
      expect(await run(['token'])).toMatchObject({ code: 0, stdout: `${before.accessToken}\n` })
      expect(
        auditLines()
          .filter((line) => line.event === 'refresh')
          .map((line) => line.reason),
      ).toEqual(['server or network failure'])
    },
    SLOW,
  )

  test(
    'an HTML 401 on login: exit 5, not 4, nothing stored; three of them do not warn',
    async () => {
      const server = await serve()
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      server.setFailure('html:401', { path: LOGIN })
      for (let i = 0; i < 3; i++) {
        const result = await login()
        expect(result).toMatchObject({ code: 5, stdout: '' })
        expect(result.stderr).not.toContain('rejected')
        expect(result.stderr).not.toMatch(WARNING)
      }
      expect(stored()).toBeUndefined()
      expect(
        auditLines()
          .filter((line) => line.event === 'login')
          .map((line) => line.reason),
      ).toEqual(Array(3).fill('server or network failure'))
      const status = await run(['status'])
      expect(status.stderr).not.toMatch(WARNING)
      // The server's own JSON 401 is still a rejection.
      server.setFailure(undefined)
      const wrong = await run(
        ['login', '-e', 'dev', '--username', 'alice', '--password-stdin'],
        {},
        'not-the-password\n',
      )
      expect(wrong).toMatchObject({ code: 4 })
    },
    SLOW,
  )
})

/** Every way `secret` could be read in `text`: its encoded forms, or a base64 run that decodes to a part of it. */
function encodedLeaks(text: string, secret: string): string[] {
  const bytes = Buffer.from(secret)
  const forms = {
    base64: bytes.toString('base64'),
    'base64 unpadded': bytes.toString('base64').replace(/=+$/, ''),
    base64url: bytes.toString('base64url'),
    percent: encodeURIComponent(secret),
    'percent, lower-case hex': encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
  }
  const leaks = Object.entries(forms)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name)
  // A base64 run, at any alignment, that decodes to 8 characters of the secret in a row.
  const piece = (start: number) => secret.slice(start, start + 8)
  for (const run of text.match(/[A-Za-z0-9+/_-]{12,}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      const decoded = Buffer.from(run.slice(skip).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1')
      for (let start = 0; start + 8 <= secret.length; start++) {
        if (decoded.includes(piece(start))) leaks.push(`a base64 run decoding to "${piece(start)}…"`)
      }
    }
  }
  return leaks
}

describe('a secret echoed back encoded never reaches stderr', () => {
  // '+', '/' and '=' differ in every encoding: percent-encoded, this token is not its literal self.
  const REFRESH_TOKEN = `Rt+${'k7/Q'.repeat(6)}x/yz9+w==`

  test.each([
    ['without debug output', {}],
    ['with TOKENCTL_DEBUG=1', { TOKENCTL_DEBUG: '1' }],
  ] as Array<[string, Record<string, string>]>)(
    'the refresh token, base64-, base64url- and percent-encoded in an error, %s',
    async (_name, debug) => {
      const server = await serve()
      server.overrideTokens({ refreshToken: REFRESH_TOKEN, path: LOGIN })
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      expect(await login()).toMatchObject({ code: 0 })
      expect(stored()?.refreshToken).toBe(REFRESH_TOKEN)
      server.setFailure('echoEncoded', { path: REFRESH })
      const result = await run(['token', '--force-refresh'], debug)
      expect(result).toMatchObject({ code: 5, stdout: '' })
      // The server did send it, in every form, so the masks are what keeps it out.
      expect(server.requests.at(-1)?.body).toEqual({ refreshToken: REFRESH_TOKEN })
      expect(result.stderr).toContain('Could not process ***')
      expect(result.stderr).not.toContain(REFRESH_TOKEN)
      expect(encodedLeaks(result.stderr, REFRESH_TOKEN)).toEqual([])
    },
    SLOW,
  )

  test(
    'the password, encoded in the error of a login',
    async () => {
      const server = await serve()
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      server.setFailure('echoEncoded', { path: LOGIN })
      const result = await login({ TOKENCTL_DEBUG: '1' })
      expect(result).toMatchObject({ code: 5, stdout: '' })
      expect(result.stderr).toContain('Could not process ***')
      expect(encodedLeaks(result.stderr, PASSWORD)).toEqual([])
    },
    SLOW,
  )
})

describe('token lifetimes', () => {
  test(
    'expiresIn 1e400 (Infinity once parsed): exit 5 naming the problem, not 1, nothing stored',
    async () => {
      const server = await serve({ expiresInText: '1e400' })
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      const result = await login()
      expect(result).toMatchObject({ code: 5, stdout: '' })
      expect(result.stderr).toContain('sent a lifetime for the access token that is not a finite number of seconds')
      expect(stored()).toBeUndefined()
    },
    SLOW,
  )

  test(
    'expiresIn "0": login says the token expired, never "expires expired"',
    async () => {
      const server = await serve({ expiresInText: '"0"' })
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      const result = await login()
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/The access token expired \d+s ago \(\S+Z\)\./)
      expect(result.stderr).not.toContain('expires expired')
    },
    SLOW,
  )
})

/** A forward proxy that answers nothing and records every request and tunnel it is asked for. */
async function recordingProxy(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = []
  const sockets = new Set<Socket>()
  const proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  proxy.on('connection', (socket: Socket) => sockets.add(socket))
  proxy.on('connect', (req, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        proxy.close(() => resolve())
      }),
  }
}

describe('plain http goes only to a loopback address', () => {
  test(
    'http://x.localhost:PORT that the resolver does not resolve: the login fails and nothing is sent, not even to a proxy',
    async () => {
      const server = await serve()
      const port = new URL(server.url).port
      // Loopback by name, so `env add` takes it; the connection is what is held to loopback.
      expect(await run(['env', 'add', 'dev', '--url', `http://x.localhost:${port}`])).toMatchObject({ code: 0 })
      const direct = await login({ TOKENCTL_TIMEOUT: '5' })
      expect(direct).toMatchObject({ code: 5, stdout: '' })
      expect(direct.stderr).toContain(`x.localhost:${port}`)
      const proxy = await recordingProxy()
      try {
        const proxied = await login({ TOKENCTL_TIMEOUT: '5', HTTP_PROXY: proxy.url, http_proxy: proxy.url })
        expect(proxied).toMatchObject({ code: 5, stdout: '' })
        expect(proxied.stderr).not.toContain(PASSWORD)
        expect(proxy.seen).toEqual([])
      } finally {
        await proxy.close()
      }
      expect(server.requests).toEqual([])
      expect(stored()).toBeUndefined()
    },
    SLOW,
  )

  test(
    'http://127.0.0.1 with HTTP_PROXY set goes straight to the server, never through the proxy',
    async () => {
      const server = await serve()
      expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
      const proxy = await recordingProxy()
      try {
        expect(await login({ HTTP_PROXY: proxy.url, http_proxy: proxy.url })).toMatchObject({ code: 0 })
        expect(proxy.seen).toEqual([])
        expect(server.count(LOGIN)).toBe(1)
      } finally {
        await proxy.close()
      }
    },
    SLOW,
  )
})

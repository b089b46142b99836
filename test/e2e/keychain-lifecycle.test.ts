/**
 * The whole token lifecycle with the default store, the OS keychain: a real gnome-keyring
 * on a private D-Bus session (docs/design.md#where-things-are-kept), the built CLI, and the real test server.
 * login → token (cache) → revoke, and the refresh token never in a file.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, Sandbox } from '../support/cli.js'
import { keyringTest, useKeyring } from '../support/keyring.js'

const PASSWORD = 'wonderland-Kq3-keychain'
const LOGIN = '/auth/token'
const REVOKE = '/auth/token/revoke'

const withKeyring = keyringTest('tokenctl lifecycle against gnome-keyring')

describe('login, token and revoke with the keychain store', () => {
  const keyring = useKeyring()
  let sandbox: Sandbox
  let server: ApiServer

  beforeEach(async () => {
    sandbox = new Sandbox()
    server = await startApiServer({ users: { alice: PASSWORD } })
  })
  afterEach(async () => {
    await server.close()
    sandbox.cleanup()
  })

  const run = (args: string[], input?: string): Promise<RunResult> => sandbox.run(args, { env: keyring()!.env, input })
  const lookup = () => keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', 'prod'])
  const posts = () => server.requests.filter((r) => r.method === 'POST')

  async function isValidAtServer(token: string): Promise<boolean> {
    const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    return response.status === 200
  }

  withKeyring(
    'the refresh token lives in the keychain only; token is served without a request; revoke clears both ends',
    async () => {
      expect(await run(['env', 'add', 'prod', '--url', server.url])).toMatchObject({ code: 0 })

      const login = await run(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`)
      expect(login).toMatchObject({ code: 0, stdout: '' })
      expect(login.stderr).toContain('Logged in to prod as alice')
      // The keychain is no plain file: no warning about one.
      expect(login.stderr).not.toContain('plain file')
      expect(posts().map((r) => r.path)).toEqual([LOGIN])
      expect(posts()[0]!.body).toEqual({ username: 'alice', password: PASSWORD })

      const entry = await lookup()
      expect(entry.code).toBe(0)
      const record = JSON.parse(entry.stdout) as { refreshToken?: string; accessToken?: string; user?: string }
      expect(record.user).toBe('alice')
      expect(typeof record.refreshToken).toBe('string')
      expect(server.isRefreshTokenActive(record.refreshToken!)).toBe(true)

      // No file anywhere holds the refresh token or the password (the access-token cache
      // beside the keychain may hold the access token, and nothing more).
      expect(sandbox.filesContaining(record.refreshToken!)).toEqual([])
      expect(sandbox.filesContaining(PASSWORD)).toEqual([])
      expect(fs.existsSync(path.join(sandbox.configDir, 'credentials.json'))).toBe(false)

      const first = await run(['token'])
      expect(first).toMatchObject({ code: 0, signal: null })
      const token = first.stdout.trimEnd()
      expect(first.stdout).toBe(`${token}\n`)
      expect(token).toBe(record.accessToken)
      expect(await isValidAtServer(token)).toBe(true)

      const second = await run(['token'])
      expect(second).toMatchObject({ code: 0, stdout: first.stdout })
      // Both served from the cache: still only the login request.
      expect(posts().map((r) => r.path)).toEqual([LOGIN])
      expect(sandbox.filesContaining(record.refreshToken!)).toEqual([])

      const revoke = await run(['revoke'])
      expect(revoke).toMatchObject({ code: 0, stdout: '' })
      expect(server.count(REVOKE)).toBe(1)
      expect(posts().at(-1)!.body).toEqual({ refreshToken: record.refreshToken })
      expect(server.isRefreshTokenActive(record.refreshToken!)).toBe(false)
      expect(await lookup()).toMatchObject({ code: 1, stdout: '' })
      // The access-token cache is cleared too (docs/design.md#where-things-are-kept): no file holds the token any more.
      expect(sandbox.filesContaining(token)).toEqual([])

      // Logged out: a token now needs a login (3), and no request is made for it.
      const after = await run(['token'])
      expect(after).toMatchObject({ code: 3, stdout: '' })
      expect(posts()).toHaveLength(2)
    },
  )
})

/**
 * docs/design.md#oauth-20-and-openid-connect browser flow (authorization code + PKCE S256 through a loopback listener,
 * RFC 8252) end to end against a real OpenID provider. The test is the browser: BROWSER
 * points at a script that records the URL it is given, and the test follows that URL
 * through the provider's login and consent to the CLI's own callback.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { type RunningCli, Sandbox } from '../support/cli.js'
import { eventually } from '../support/keyring.js'
import { FILE_STORE, stored, storedTokens } from '../support/oauth2-e2e.js'
import { CLI_CLIENT_ID, type OidcServer, startOidcServer } from '../support/oidc-server.js'

let sandbox: Sandbox
let oidc: OidcServer
let browser: { script: string; opened: string; environ: string }

beforeEach(async () => {
  sandbox = new Sandbox()
  oidc = await startOidcServer()
  browser = fakeBrowser()
  expect(
    await sandbox.run(['env', 'add', 'corp', '--issuer', oidc.issuer, '--client-id', CLI_CLIENT_ID], {
      env: FILE_STORE,
    }),
  ).toMatchObject({ code: 0 })
})

afterEach(async () => {
  await oidc.close()
  sandbox.cleanup()
})

/** A "browser" that writes how many arguments it got and the first one to a file (and its environment to another), then exits. */
function fakeBrowser(): { script: string; opened: string; environ: string } {
  const script = path.join(sandbox.dir, 'browser.sh')
  const opened = path.join(sandbox.dir, 'opened.txt')
  const environ = path.join(sandbox.dir, 'browser-environ.txt')
  fs.writeFileSync(
    script,
    `#!/bin/sh\nenv > "${environ}"\nprintf '%s\\n%s' "$#" "$1" > "${opened}.part" && mv "${opened}.part" "${opened}"\n`,
    { mode: 0o755 },
  )
  return { script, opened, environ }
}

/** `login --flow browser` with BROWSER set to the fake browser. */
function startLogin(args: string[] = [], env: Record<string, string> = {}): RunningCli {
  return sandbox.start(['login', '--flow', 'browser', ...args], {
    env: { ...FILE_STORE, BROWSER: browser.script, DISPLAY: undefined, ...env },
  })
}

/** The URL the CLI opened the browser at, once the browser was started with exactly one argument. */
async function openedUrl(): Promise<URL> {
  expect(await eventually(() => fs.existsSync(browser.opened), 30_000)).toBe(true)
  const [count, url] = fs.readFileSync(browser.opened, 'utf8').split('\n')
  expect(count).toBe('1')
  return new URL(url!)
}

describe('browser flow', () => {
  test('the test browses to the opened URL, the provider verifies PKCE, and the login is stored', async () => {
    const login = startLogin()
    const url = await openedUrl()

    // The authorization request: our client, a loopback redirect with a port, S256, a state.
    expect(`${url.origin}${url.pathname}`).toBe(oidc.endpoints.authorization)
    const params = url.searchParams
    expect(params.get('response_type')).toBe('code')
    expect(params.get('client_id')).toBe(CLI_CLIENT_ID)
    expect(params.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(params.get('code_challenge_method')).toBe('S256')
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(params.get('state')!.length).toBeGreaterThanOrEqual(32)
    expect(params.get('scope')).toBe('openid offline_access')
    // Printed on stderr even though a browser was opened (docs/design.md#oauth-20-and-openid-connect: always).
    await login.waitForStderr(new RegExp(url.href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))

    const page = await oidc.browse(url.href)
    expect(page.status).toBe(200)
    expect(page.body).toMatch(/You can close this tab/)
    const result = await login.done
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toMatch(/Logged in to corp as alice/)

    // The code exchange carried the verifier whose S256 is the challenge, and the provider
    // (which requires PKCE of this public client) accepted it.
    const exchanges = oidc.requests.filter((request) => request.grantType === 'authorization_code')
    expect(exchanges).toHaveLength(1)
    const exchange = exchanges[0]!
    expect(exchange).toMatchObject({ clientAuth: 'none', status: 200 })
    expect(exchange.body).toMatchObject({
      client_id: CLI_CLIENT_ID,
      redirect_uri: params.get('redirect_uri'),
      code: new URL(page.callbackUrl).searchParams.get('code'),
    })
    expect(exchange.body.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/)
    expect(createHash('sha256').update(exchange.body.code_verifier!).digest('base64url')).toBe(
      params.get('code_challenge'),
    )

    const record = storedTokens(sandbox, 'corp')
    expect(record).toMatchObject({ user: 'alice', flow: 'browser' })
    expect(await oidc.introspect(record.accessToken)).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: CLI_CLIENT_ID,
    })
    expect(await sandbox.run(['token'], { env: FILE_STORE })).toMatchObject({
      code: 0,
      stdout: `${record.accessToken}\n`,
    })
  })

  test('a callback with a state that is not ours: answered 400 and ignored; the genuine callback still completes the login', async () => {
    const login = startLogin()
    const url = await openedUrl()
    // The provider sends the browser back with a real code; the test first forges the state.
    // Any local process can reach the listener, so a forged callback must end nothing.
    const callback = new URL(await oidc.browseTo(url.href))
    expect(callback.searchParams.get('state')).toBe(url.searchParams.get('state'))
    expect(callback.searchParams.get('code')).toBeTruthy()
    const forged = new URL(callback)
    forged.searchParams.set('state', 'forged-state')
    const answer = await fetch(forged)
    expect(answer.status).toBe(400)
    expect(await answer.text()).not.toContain('forged-state')
    // Nothing was exchanged for the forged callback, and the login still waits.
    expect(oidc.count('authorization_code')).toBe(0)

    const genuine = await fetch(callback)
    expect(genuine.status).toBe(200)
    const result = await login.done
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toMatch(/Logged in to corp as alice/)
    expect(oidc.count('authorization_code')).toBe(1)
    expect(storedTokens(sandbox, 'corp')).toMatchObject({ user: 'alice', flow: 'browser' })
  })

  test('the person refuses consent: the provider sends access_denied to the callback, exit 4', async () => {
    const login = startLogin()
    const url = await openedUrl()
    const page = await oidc.browse(url.href, { deny: true })
    expect(new URL(page.callbackUrl).searchParams.get('error')).toBe('access_denied')
    expect(page.status).toBe(400)
    const result = await login.done
    expect(result).toMatchObject({ code: 4, stdout: '' })
    expect(result.stderr).toMatch(/denied.*access_denied/)
    expect(oidc.count('authorization_code')).toBe(0)
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('--timeout 2s with nobody at the browser: exit 3; with no browser to open, the URL is printed', async () => {
    // No BROWSER and no display: nothing to open, so the URL on stderr is all there is.
    const result = await sandbox.run(['login', '--flow', 'browser', '--timeout', '2s'], {
      env: { ...FILE_STORE, DISPLAY: undefined, WAYLAND_DISPLAY: undefined },
    })
    expect(result).toMatchObject({ code: 3, stdout: '' })
    expect(result.stderr).toMatch(/Open this URL in a browser/)
    expect(result.stderr).toContain(`${oidc.endpoints.authorization}?response_type=code&client_id=${CLI_CLIENT_ID}`)
    expect(result.stderr).toMatch(/No answer came back from the browser within 2 s/)
    expect(oidc.requests).toEqual([])
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })

  test('the browser gets the URL and none of the TOKENCTL_ variables', async () => {
    const secrets = {
      TOKENCTL_PASSWORD: 'password-in-ci-0123456789',
      TOKENCTL_REFRESH_TOKEN: 'refresh-in-ci-0123456789',
      TOKENCTL_CLIENT_SECRET: 'secret-in-ci-0123456789',
    }
    const login = startLogin(['--timeout', '2s'], secrets)
    await openedUrl()
    expect(await login.done).toMatchObject({ code: 3 })
    const environ = fs.readFileSync(browser.environ, 'utf8')
    expect(environ).toMatch(/^PATH=/m)
    expect(environ).not.toMatch(/^TOKENCTL_/m)
    for (const secret of Object.values(secrets)) expect(environ).not.toContain(secret)
  })

  test('Ctrl-C while waiting for the browser: exit 130, the listener is gone, nothing stored', async () => {
    const login = startLogin()
    const url = await openedUrl()
    await login.waitForStderr(/Waiting for the browser/)
    login.child.kill('SIGINT')
    const result = await login.done
    expect(result).toMatchObject({ code: 130, stdout: '' })
    expect(result.stderr).toMatch(/stopped; nothing was stored/)
    await expect(fetch(url.searchParams.get('redirect_uri')!)).rejects.toThrow()
    expect(stored(sandbox, 'corp')).toBeUndefined()
  })
})

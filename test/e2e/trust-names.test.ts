/**
 * Names and text from outside are data, never code or layout: the built CLI as a
 * subprocess against the real `api` test server and a real git. A planted config.json
 * with a name that is shell code is refused before any of it reaches git or a shell; a
 * name is looked up as the config's own, never through the object prototype; text a
 * server or a person sent (an error message, a user name) reaches the terminal without
 * bidi overrides, isolates, zero-width characters or line separators.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, type RunResult, Sandbox } from '../support/cli.js'

let sandbox: Sandbox
let globalGitConfig: string
beforeEach(() => {
  sandbox = new Sandbox()
  globalGitConfig = path.join(sandbox.dir, 'gitconfig-global')
})
afterEach(() => sandbox.cleanup())

/** tokenctl and git see the sandbox, a private global git config and no system one. */
function environ(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GIT_CONFIG_GLOBAL: globalGitConfig,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CEILING_DIRECTORIES: sandbox.dir,
    GIT_TERMINAL_PROMPT: '0',
    TOKENCTL_STORE: 'file',
    ...extra,
  }
}

const run = (args: string[], input?: string, extra: Record<string, string> = {}): Promise<RunResult> =>
  sandbox.run(args, { env: environ(extra), input })

function git(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('git', args, { env: sandbox.env(environ()), cwd: sandbox.dir, input, encoding: 'utf8' })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A config.json as an attacker (or a careless hand edit) leaves it. */
function plantConfig(envs: Record<string, unknown>, current?: string): void {
  fs.mkdirSync(sandbox.configDir, { recursive: true, mode: 0o700 })
  fs.writeFileSync(sandbox.configFile, JSON.stringify({ envs, ...(current === undefined ? {} : { current }) }), {
    mode: 0o600,
  })
}

const apiEnv = { protocol: 'api', url: 'https://api.example.com', gitHosts: ['git.example.com'] }

describe('env names from the config file are validated, quoted and looked up as own properties', () => {
  const ran = (name: string) => path.join(sandbox.dir, name)
  const hostileNames = () => [`x;touch ${ran('p')};#`, `$(touch ${ran('q')})`]

  test.each([0, 1])(
    'a planted env name that is shell code (#%i): setup-git exits 2 naming the file and the name, and git runs nothing',
    async (which) => {
      const hostile = hostileNames()[which]!
      plantConfig({ prod: apiEnv, [hostile]: apiEnv }, hostile)
      const before = fs.readFileSync(sandbox.configFile)

      // What setup-git would have written, and git set up for tokenctl as setup-git writes
      // it for the good env: git asks tokenctl for the host, and nothing of the name runs.
      const setup = await run(['setup-git'])
      git([
        'config',
        '--global',
        '--add',
        'credential.https://git.example.com.helper',
        `!'${BIN}' git-credential -e 'prod'`,
      ])
      const fill = git(['credential', 'fill'], 'protocol=https\nhost=git.example.com\n\n')
      expect(fill.stdout).not.toMatch(/password=/)
      expect(fs.existsSync(ran('p'))).toBe(false)
      expect(fs.existsSync(ran('q'))).toBe(false)

      expect(setup).toMatchObject({ code: 2, stdout: '' })
      expect(setup.stderr).toContain(sandbox.configFile)
      expect(setup.stderr).toContain(`"${hostile}"`)
      expect(setup.stderr).toContain('not a valid env name')
      expect(git(['config', '--global', '--get-all', 'credential.https://git.example.com.helper']).stdout).toBe(
        `!'${BIN}' git-credential -e 'prod'\n`,
      )
      // With -e naming the good env the file is refused all the same: it is one file.
      expect(await run(['setup-git', '-e', 'prod'])).toMatchObject({ code: 2, stdout: '' })
      // Every command that reads the config refuses it, the fast path's included; it is left as it was.
      for (const args of [
        ['status'],
        ['status', '-e', 'prod'],
        ['env', 'list'],
        ['env', 'list', '--names'],
        ['token', '-e', 'prod'],
      ]) {
        const result = await run(args)
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' })
        expect(result.stderr).toContain(sandbox.configFile)
      }
      expect(fs.readFileSync(sandbox.configFile)).toEqual(before)
    },
  )

  test('an invalid "current", or a name with control characters, is exit 2 and printed printable', async () => {
    plantConfig({ prod: apiEnv }, 'Prod;id')
    const current = await run(['status'])
    expect(current).toMatchObject({ code: 2, stdout: '' })
    expect(current.stderr).toContain('"current" set to "Prod;id"')

    plantConfig({ prod: apiEnv, 'bad\u001b]0;title\u0007\u202ename': apiEnv })
    const control = await run(['env', 'list'])
    expect(control).toMatchObject({ code: 2, stdout: '' })
    expect(control.stderr).toContain('"bad]0;titlename"')
    // eslint-disable-next-line no-control-regex
    expect(control.stderr.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/,
    )

    fs.writeFileSync(sandbox.configFile, `{"envs": {"__proto__": ${JSON.stringify(apiEnv)}}}`)
    expect(await run(['env', 'list'])).toMatchObject({ code: 2, stdout: '' })
  })

  test('"constructor", "toString" and "__proto__" are not envs unless added: exit 2, unknown env', async () => {
    expect(await run(['env', 'add', 'prod', '--url', 'https://api.example.com'])).toMatchObject({ code: 0 })
    // "constructor" is a valid name that no one added; the others are not even valid names.
    for (const name of ['constructor', 'toString', 'valueOf', '__proto__']) {
      const commands = [
        ['status', '-e', name],
        ['env', 'show', name],
        ...(name === 'constructor'
          ? [
              ['token', '-e', name],
              ['env', 'use', name],
              ['setup-git', '-e', name],
            ]
          : []),
      ]
      for (const args of commands) {
        const result = await run(args)
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' })
        if (name === 'constructor') expect(result.stderr).toContain('Unknown env "constructor"')
        else expect(result.stderr).toMatch(new RegExp(`Unknown env "${name}"|"${name}" is not a valid env name`))
      }
    }
    expect(JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8'))).toEqual({
      current: 'prod',
      envs: { prod: { protocol: 'api', url: 'https://api.example.com' } },
    })
  })

  test('an env really named "constructor" is an env like any other, in the config and in the file store', async () => {
    const server = await startApiServer()
    try {
      expect(await run(['env', 'add', 'prod', '--url', server.url])).toMatchObject({ code: 0 })
      expect(await run(['env', 'add', 'constructor', '--url', server.url])).toMatchObject({ code: 0 })
      // A login for prod makes the file store exist; constructor has no entry in it.
      expect(
        await run(['login', '-e', 'prod', '--username', 'alice', '--password-stdin'], 'wonderland\n'),
      ).toMatchObject({ code: 0 })
      const status = await run(['status', '-e', 'constructor'])
      expect(status).toMatchObject({ code: 3, stderr: 'Run: tokenctl login -e constructor\n' })
      expect(status.stdout).toMatch(/^constructor\n {2}logged in: +no$/m)
      expect(
        await run(['login', '-e', 'constructor', '--username', 'alice', '--password-stdin'], 'wonderland\n'),
      ).toMatchObject({ code: 0 })
      expect((await run(['token', '-e', 'constructor'])).code).toBe(0)
    } finally {
      await server.close()
    }
  })
})

describe('text from a server or a person reaches the terminal without bidi, zero-width or separator characters', () => {
  // Right-to-left override, left-to-right isolate, zero-width space, line separator.
  const HOSTILE = ['\u202e', '\u2066', '\u200b', '\u2028']
  const INVISIBLE = /[\u200b-\u200f\u061c\u202a-\u202e\u2060\u2066-\u2069\ufeff\u2028\u2029]/
  const USER = `bob${HOSTILE.join('')}\u2069by`
  let server: ApiServer

  beforeEach(async () => {
    server = await startApiServer({ users: { alice: 'wonderland', [USER]: 'builder' } })
    expect(await run(['env', 'add', 'prod', '--url', server.url, '--use'])).toMatchObject({ code: 0 })
  })
  afterEach(() => server.close())

  const message = `Access denied${HOSTILE.join('')} (txt.exe${HOSTILE[0]}gpj.evil)`

  test('an error message on login', async () => {
    server.failNext('status:401', 1, { path: '/auth/token', message })
    const result = await run(['login', '--username', 'alice', '--password-stdin'], 'wonderland\n')
    expect(result.code).toBe(4)
    expect(result.stderr).toContain('Access denied (txt.exegpj.evil)')
    expect(result.stderr).not.toMatch(INVISIBLE)
  })

  test('an error message on refresh, in every command that refreshes, git-credential included', async () => {
    expect(await run(['login', '--username', 'alice', '--password-stdin'], 'wonderland\n')).toMatchObject({ code: 0 })
    server.setFailure('status:503', { path: '/auth/token/refresh', message })
    for (const args of [['refresh'], ['token', '--force-refresh'], ['refresh', '--quiet']]) {
      const result = await run(args)
      expect({ args, code: result.code }).toEqual({ args, code: 5 })
      expect(result.stderr).toContain('Access denied (txt.exegpj.evil)')
      expect(result.stderr).not.toMatch(INVISIBLE)
    }
    // erase drops the cached access token, so the next get refreshes.
    const request = `protocol=http\nhost=${new URL(server.url).host}\n\n`
    expect((await run(['git-credential', 'erase'], request)).code).toBe(0)
    const git = await run(['git-credential', 'get'], request, { TOKENCTL_DEBUG: '1' })
    expect(git.stderr).toContain('Access denied')
    expect(git.stderr).not.toMatch(INVISIBLE)
  })

  test('a user name is shown stripped by login and status', async () => {
    const login = await run(['login', '--username', USER, '--password-stdin'], 'builder\n')
    expect(login).toMatchObject({ code: 0, stdout: '' })
    expect(login.stderr).toContain('Logged in to prod as bobby.')
    expect(login.stderr).not.toMatch(INVISIBLE)
    const status = await run(['status'])
    expect(status).toMatchObject({ code: 0, stderr: '' })
    expect(status.stdout).toMatch(/logged in: +yes, as bobby$/m)
    expect(status.stdout).not.toMatch(INVISIBLE)
    const json = await run(['status', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ user: 'bobby' })
    const list = await run(['env', 'list'])
    expect(list.stdout).toMatch(/ bobby /)
    expect(list.stdout).not.toMatch(INVISIBLE)
  })
})

describe('values from a hand-edited config.json reach the terminal sanitized', () => {
  // Right-to-left override, escape sequences (clear screen, DEL + C1 CSI), zero-width space, line separator, a tag character.
  const HOSTILE = '\u202e\u001b[2J\u007f\u009b2J\u200b\u2028\u{e0041}'
  const UNSAFE =
    // eslint-disable-next-line no-control-regex -- control characters are what this test looks for
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\u{e0000}-\u{e007f}]/u
  const settings = {
    api: {
      protocol: 'api',
      url: `https://api.example.com/${HOSTILE}x`,
      username: `al${HOSTILE}ice`,
      tokenPath: `/t${HOSTILE}`,
    },
    oidc: {
      protocol: 'oauth2',
      issuer: `https://id.example.com/${HOSTILE}`,
      clientId: `cli${HOSTILE}`,
      scope: `openid ${HOSTILE}profile`,
      tokenUrl: `https://id.example.com/token${HOSTILE}`,
      gitHosts: [`git.example.com${HOSTILE}`],
    },
  }

  test('env show, env list and status print every value without control, bidi, zero-width or tag characters; --json keeps the values, escaped', async () => {
    plantConfig(settings, 'api')
    const outputs: RunResult[] = []
    for (const env of ['api', 'oidc']) {
      outputs.push(await run(['env', 'show', env]), await run(['status', '-e', env]))
      const json = await run(['env', 'show', env, '--json'])
      expect(json.code).toBe(0)
      expect(json.stdout).not.toMatch(UNSAFE)
      const shown = JSON.parse(json.stdout) as Record<string, unknown>
      for (const [key, value] of Object.entries(settings[env as 'api' | 'oidc'])) expect(shown[key]).toEqual(value)
    }
    outputs.push(await run(['env', 'list']), await run(['env', 'list'], undefined, { TOKENCTL_FAST_PATH: '0' }))
    for (const result of outputs) {
      expect(result.stdout).not.toBe('')
      expect(result.stdout.replace(/\n/g, '')).not.toMatch(UNSAFE)
      expect(result.stderr).not.toMatch(UNSAFE)
    }
    expect(outputs[0]!.stdout).toContain('https://api.example.com/[2J2Jx')
    expect(outputs.at(-1)!.stdout).toContain('https://api.example.com/[2J2Jx')
  })
})

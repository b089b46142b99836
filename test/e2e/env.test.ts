import fs from 'node:fs'

import { Sandbox } from '../support/cli.js'

let sandbox: Sandbox
beforeEach(() => {
  sandbox = new Sandbox()
})
afterEach(() => sandbox.cleanup())

const fileStore = { TOKENCTL_STORE: 'file' }
const readConfig = () => JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8'))

describe('env add', () => {
  test('writes the env to config.json, makes the first one current, and says what to do next', async () => {
    const result = await sandbox.run([
      'env',
      'add',
      'prod',
      '--url',
      'https://api.example.com',
      '--username',
      'alice',
      '--git-host',
      'Git.Example.com:8443',
    ])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toBe('Added env "prod" (current).\nNext: tokenctl login -e prod\n')
    expect(readConfig()).toEqual({
      current: 'prod',
      envs: {
        prod: {
          protocol: 'api',
          url: 'https://api.example.com',
          username: 'alice',
          gitHosts: ['git.example.com:8443'],
        },
      },
    })
  })

  test('a second env does not become current unless --use', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
    expect(readConfig().current).toBe('prod')
    const result = await sandbox.run(['env', 'add', 'dev', '--url', 'http://127.0.0.1:8080', '--use', '-q'])
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' })
    expect(readConfig().current).toBe('dev')
  })

  test('refuses a duplicate without --force (exit 2) and replaces it with --force', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    const before = fs.readFileSync(sandbox.configFile)
    const duplicate = await sandbox.run(['env', 'add', 'prod', '--url', 'https://other.example.com'])
    expect(duplicate.code).toBe(2)
    expect(duplicate.stdout).toBe('')
    expect(duplicate.stderr).toContain('already exists')
    expect(duplicate.stderr).toContain('--force')
    expect(fs.readFileSync(sandbox.configFile)).toEqual(before)

    const forced = await sandbox.run(['env', 'add', 'prod', '--url', 'https://other.example.com', '--force'])
    expect(forced.code).toBe(0)
    expect(forced.stderr).toContain('Replaced env "prod"')
    expect(readConfig().envs.prod.url).toBe('https://other.example.com')
  })

  test.each([
    ['Prod', 'upper case'],
    ['_prod', 'leading underscore'],
    ['a'.repeat(65), 'too long'],
    ['pr/od', 'slash'],
  ])('refuses the invalid name %j (%s) with exit 2', async (name) => {
    const result = await sandbox.run(['env', 'add', name, '--url', 'https://api.example.com'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('is not a valid env name')
    expect(fs.existsSync(sandbox.configFile)).toBe(false)
  })

  test.each(['con', 'nul.txt', 'com1', 'lpt9.tar.gz'])(
    'refuses %j, a Windows device name, on every OS: exit 2 saying why and what to do',
    async (name) => {
      const result = await sandbox.run(['env', 'add', name, '--url', 'https://api.example.com'])
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toBe(
        `Error: "${name}" is not a valid env name: Windows reserves it for a device (con, prn, aux, nul, com1-com9, lpt1-lpt9, with any extension).\n` +
          'Pick another name, e.g. with a prefix or suffix ("my-con", "nul-env").\n',
      )
      expect(fs.existsSync(sandbox.configFile)).toBe(false)
    },
  )

  test('refuses http:// to a non-loopback host without --allow-http, allows it with', async () => {
    const refused = await sandbox.run(['env', 'add', 'prod', '--url', 'http://api.example.com'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('plain http://')
    expect(refused.stderr).toContain('--allow-http')
    expect(fs.existsSync(sandbox.configFile)).toBe(false)

    const allowed = await sandbox.run(['env', 'add', 'prod', '--url', 'http://api.example.com', '--allow-http'])
    expect(allowed.code).toBe(0)
    expect(readConfig().envs.prod).toEqual({ protocol: 'api', url: 'http://api.example.com', allowHttp: true })
  })

  test.each(['http://localhost:3000', 'http://127.0.0.5:9', 'http://[::1]:8080'])(
    'allows http:// to loopback %s',
    async (url) => {
      const result = await sandbox.run(['env', 'add', 'dev', '--url', url])
      expect(result.code).toBe(0)
    },
  )

  test.each([
    [['--url', 'not a url'], 'is not a URL'],
    [['--url', 'ftp://example.com'], 'must be an https:// URL'],
    [[], 'needs the server URL'],
    [['--url', 'https://x.example.com', '--token-path', 'auth'], 'is not a path'],
    [['--url', 'https://x.example.com', '--protocol', 'soap'], 'Expected --protocol=soap to be one of'],
    [['--url', 'https://x.example.com', '--bogus'], 'Nonexistent flag'],
  ])('bad input %j → exit 2 with a message', async (flags, message) => {
    const result = await sandbox.run(['env', 'add', 'x', ...flags])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  test('oauth2 env with endpoints given by hand', async () => {
    const result = await sandbox.run([
      'env',
      'add',
      'corp',
      '--protocol',
      'oauth2',
      '--token-url',
      'https://sso.example.com/token',
      '--client-id',
      'cli',
      '--scope',
      'openid offline_access',
    ])
    expect(result.code).toBe(0)
    expect(readConfig().envs.corp).toEqual({
      protocol: 'oauth2',
      tokenUrl: 'https://sso.example.com/token',
      clientId: 'cli',
      scope: 'openid offline_access',
    })
  })
})

describe('env use', () => {
  test('switches the current env', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
    const result = await sandbox.run(['env', 'use', 'staging'])
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: 'Current env is now "staging".\n' })
    expect(readConfig().current).toBe('staging')
  })

  test('an unknown env exits 2, lists the known ones and changes nothing', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
    const before = fs.readFileSync(sandbox.configFile)
    const result = await sandbox.run(['env', 'use', 'nope'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Unknown env "nope". Known envs: prod, staging.')
    expect(fs.readFileSync(sandbox.configFile)).toEqual(before)
  })
})

describe('env list', () => {
  beforeEach(async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com', '--username', 'alice'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com', '--use'])
  })

  test('--json: every env, the current one marked', async () => {
    const result = await sandbox.run(['env', 'list', '--json'], { env: fileStore })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual([
      { name: 'prod', current: false, protocol: 'api', url: 'https://api.example.com', user: 'alice', loggedIn: false },
      {
        name: 'staging',
        current: true,
        protocol: 'api',
        url: 'https://staging.example.com',
        user: null,
        loggedIn: false,
      },
    ])
  })

  test('a table with the current env starred, no colour when stdout is not a TTY', async () => {
    const result = await sandbox.run(['env', 'list'], { env: fileStore })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      [
        '   NAME     PROTOCOL  URL                          USER   LOGGED IN',
        '   prod     api       https://api.example.com      alice  no',
        '*  staging  api       https://staging.example.com  -      no',
        '',
      ].join('\n'),
    )
  })

  test('no envs: empty stdout (or [] with --json) and a hint on stderr', async () => {
    const empty = new Sandbox()
    try {
      const plain = await empty.run(['env', 'list'], { env: fileStore })
      expect(plain).toMatchObject({ code: 0, stdout: '' })
      expect(plain.stderr).toContain('tokenctl env add')
      const json = await empty.run(['env', 'list', '--json'], { env: fileStore })
      expect(JSON.parse(json.stdout)).toEqual([])
    } finally {
      empty.cleanup()
    }
  })
})

describe('env show', () => {
  test('--json: the current env with every setting', async () => {
    await sandbox.run([
      'env',
      'add',
      'prod',
      '--url',
      'https://api.example.com',
      '--token-path',
      '/v2/login',
      '--git-host',
      'git.example.com',
    ])
    const result = await sandbox.run(['env', 'show', '--json'], { env: fileStore })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      name: 'prod',
      current: true,
      protocol: 'api',
      url: 'https://api.example.com',
      user: null,
      loggedIn: false,
      tokenPath: '/v2/login',
      gitHosts: ['git.example.com'],
    })
  })

  test('text: the hosts under the name of the flag that sets them, --host', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com', '--host', 'git.example.com'])
    const result = await sandbox.run(['env', 'show'], { env: fileStore })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^ {2}hosts: +git\.example\.com$/m)
    expect(result.stdout).not.toContain('gitHosts')
  })

  test('selection order: -e, then TOKENCTL_ENV, then the current env', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
    await sandbox.run(['env', 'add', 'dev', '--url', 'http://localhost:1'])
    const shown = async (args: string[], env: Record<string, string> = {}) =>
      JSON.parse((await sandbox.run(['env', 'show', '--json', ...args], { env: { ...fileStore, ...env } })).stdout).name
    expect(await shown([])).toBe('prod')
    expect(await shown([], { TOKENCTL_ENV: 'staging' })).toBe('staging')
    expect(await shown(['-e', 'dev'], { TOKENCTL_ENV: 'staging' })).toBe('dev')
  })

  test('an env made from variables alone is selected when there is no config', async () => {
    const result = await sandbox.run(['env', 'show', '--json'], {
      env: { ...fileStore, TOKENCTL_URL: 'https://ci.example.com' },
    })
    // `env show` describes configured envs; the variables-only env is named but not in the config.
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Unknown env "default"')
  })

  test('a human view without secrets', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    const result = await sandbox.run(['env', 'show', 'prod'], { env: fileStore })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('prod\n')
    expect(result.stdout).toMatch(/url:\s+https:\/\/api\.example\.com/)
  })
})

describe('env remove', () => {
  test('removes the env and its secrets from the file store', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
    fs.writeFileSync(
      `${sandbox.configDir}/credentials.json`,
      JSON.stringify({ version: 1, envs: { prod: { user: 'alice' }, staging: { user: 'bob' } } }),
      { mode: 0o600 },
    )
    const result = await sandbox.run(['env', 'remove', 'prod', '--no-revoke'], { env: fileStore })
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: 'Removed env "prod" and its secrets.\n' })
    expect(readConfig()).toEqual({ envs: { staging: { protocol: 'api', url: 'https://staging.example.com' } } })
    expect(JSON.parse(fs.readFileSync(`${sandbox.configDir}/credentials.json`, 'utf8')).envs).toEqual({
      staging: { user: 'bob' },
    })
  })

  test('an unknown env exits 2', async () => {
    const result = await sandbox.run(['env', 'remove', 'ghost'], { env: fileStore })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Unknown env "ghost"')
  })
})

describe('a corrupt config.json', () => {
  test.each([
    ['not JSON', '{"envs": {"prod": '],
    ['wrong shape', '{"envs": []}'],
    ['an unreadable env entry', '{"envs": {"prod": {"protocol": "carrier-pigeon"}}}'],
  ])('%s: every env command exits 2 and leaves the file byte for byte', async (_what, content) => {
    fs.mkdirSync(sandbox.configDir, { recursive: true })
    fs.writeFileSync(sandbox.configFile, content)
    for (const args of [
      ['env', 'list'],
      ['env', 'add', 'x', '--url', 'https://x.example.com'],
      ['env', 'use', 'prod'],
      ['env', 'show'],
      ['env', 'remove', 'prod'],
    ]) {
      const result = await sandbox.run(args, { env: fileStore })
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' })
      expect(result.stderr).toContain(sandbox.configFile)
      expect(result.stderr).toContain('left untouched')
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    expect(fs.readFileSync(sandbox.configFile, 'utf8')).toBe(content)
  })
})

describe('errors', () => {
  test('TOKENCTL_DEBUG=1 adds the stack; without it there is none', async () => {
    const plain = await sandbox.run(['env', 'use', 'nope'])
    expect(plain.stderr).not.toMatch(/\n\s+at /)
    const debug = await sandbox.run(['env', 'use', 'nope'], { env: { TOKENCTL_DEBUG: '1' } })
    expect(debug.code).toBe(2)
    expect(debug.stderr).toMatch(/\n\s+at /)
  })

  test('an unknown TOKENCTL_STORE exits 2', async () => {
    await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
    const result = await sandbox.run(['env', 'list'], { env: { TOKENCTL_STORE: 'floppy' } })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('TOKENCTL_STORE must be one of keychain, file')
  })

  test('colour on stderr only when forced; NO_COLOR wins over a TTY', async () => {
    const forced = await sandbox.run(['env', 'use', 'nope'], { env: { FORCE_COLOR: '1' } })
    expect(forced.stderr).toContain('\u001b[31mError:')
    const plain = await sandbox.run(['env', 'use', 'nope'], { env: { NO_COLOR: '1' } })
    expect(plain.stderr.startsWith('Error: ')).toBe(true)
  })
})

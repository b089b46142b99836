/**
 * `tokenctl git-credential` as git runs it (docs/design.md#git-and-curl): the built CLI as a subprocess fed
 * the exact bytes of git's credential protocol, against the real JSON login API of
 * test/support, with the plain-file store. Every answer is checked byte for byte.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, Sandbox } from '../support/cli.js'

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
  accessExpiresAt?: number
}

const REFRESH = '/auth/token/refresh'
const ENV = 'prod'

let sandbox: Sandbox
let server: ApiServer

/** A sandbox with env `prod` (the server's URL plus two git hosts) and the server behind it. */
async function setUp(): Promise<void> {
  sandbox = new Sandbox()
  server = await startApiServer()
  await cli([
    'env',
    'add',
    ENV,
    '--url',
    server.url,
    '--git-host',
    'git.example.com',
    '--git-host',
    'git.example.com:8443',
  ])
}

async function tearDown(): Promise<void> {
  await server.close()
  sandbox.cleanup()
}

/** The answering and silent cases change nothing (the silent ones check it), so they share one login. */
function sharedLogin(): void {
  beforeAll(async () => {
    await setUp()
    await login()
    printed = await current()
  })
  afterAll(tearDown)
}

let printed: Awaited<ReturnType<typeof current>> | undefined

/** What `tokenctl token` printed after the shared login; the store must still hold that token. */
function known(): Awaited<ReturnType<typeof current>> {
  if (!printed) throw new Error('no shared login')
  expect(stored().accessToken).toBe(printed.token)
  return printed
}

/** Cases that change the stored tokens, or need none, start afresh. */
function freshSandbox(): void {
  beforeEach(setUp)
  afterEach(tearDown)
}

function cli(args: string[], input?: string | Buffer): Promise<RunResult> {
  return sandbox.run(args, { env: { TOKENCTL_STORE: 'file' }, input }).then((result) => {
    if (args[0] !== 'git-credential')
      expect(result).toMatchObject({ code: 0, stdout: args[0] === 'token' ? expect.any(String) : '' })
    return result
  })
}

/** What git runs: `<helper> get` with the request on stdin (setup-git puts `-e ENV` first). */
const credential = (operation: 'get' | 'store' | 'erase', input: string | Buffer) =>
  cli(['git-credential', '-e', ENV, operation], input)

async function login(): Promise<void> {
  await cli(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], 'wonderland\n')
}

const credentialsFile = () => path.join(sandbox.configDir, 'credentials.json')
const credentialsBytes = () => fs.readFileSync(credentialsFile())

function stored(): Required<StoredRecord> {
  const record = (JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as { envs: Record<string, StoredRecord> })
    .envs[ENV]
  if (!record?.refreshToken || !record.accessToken || record.accessExpiresAt === undefined)
    throw new Error(`incomplete record: ${JSON.stringify(Object.keys(record ?? {}))}`)
  return record as Required<StoredRecord>
}

/** `tokenctl token`'s token, and the expiry git must be told (whole epoch seconds). */
async function current(): Promise<{ token: string; expiry: number; refreshToken: string }> {
  const printed = await cli(['token', '-e', ENV])
  const token = printed.stdout.replace(/\n$/, '')
  const record = stored()
  expect(record.accessToken).toBe(token)
  return { token, expiry: Math.floor(record.accessExpiresAt / 1000), refreshToken: record.refreshToken }
}

const host = () => new URL(server.url).host

/** An answer with username/password, exact bytes, and nothing else anywhere. */
async function expectAnswer(input: string): Promise<void> {
  const { token, expiry, refreshToken } = known()
  const result = await credential('get', input)
  expect(result).toEqual(
    expect.objectContaining({
      code: 0,
      stderr: '',
      stdout: `username=alice\npassword=${token}\npassword_expiry_utc=${expiry}\n`,
    }),
  )
  expect(result.stdout).not.toContain(refreshToken)
}

/** Not for us: nothing on stdout, exit 0, so git asks its next helper. */
async function expectSilence(input: string | Buffer): Promise<void> {
  known()
  const before = credentialsBytes()
  const result = await credential('get', input)
  expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '' }))
  expect(credentialsBytes().equals(before)).toBe(true)
}

describe('git-credential get answers', () => {
  sharedLogin()
  test("the env URL's host over http, since it is loopback", () => expectAnswer(`protocol=http\nhost=${host()}\n\n`))
  test("the env URL's host over https", () => expectAnswer(`protocol=https\nhost=${host()}\n\n`))
  test('a --git-host over https', () => expectAnswer('protocol=https\nhost=git.example.com\n\n'))
  test('a --git-host with its port', () => expectAnswer('protocol=https\nhost=git.example.com:8443\n\n'))
  test('the host is matched without regard to case', () => expectAnswer('protocol=https\nhost=GIT.Example.COM\n\n'))
  test("username= the env's user", () => expectAnswer('protocol=https\nhost=git.example.com\nusername=alice\n\n'))
  test('username=x-access-token', () =>
    expectAnswer('protocol=https\nhost=git.example.com\nusername=x-access-token\n\n'))
  test('url= expanded', () => expectAnswer('url=https://git.example.com/org/repo.git\n\n'))
  test('url= with a port', () => expectAnswer('url=https://git.example.com:8443/org/repo.git\n'))
  test('CRLF lines, ended by EOF without a blank line', () =>
    expectAnswer('protocol=https\r\nhost=git.example.com\r\npath=org/repo.git\r\n'))
  test('unknown keys are ignored', () =>
    expectAnswer('protocol=https\nhost=git.example.com\nwwwauth[]=Bearer realm="git"\nstate[]=x:y\n\n'))
  test('a request longer than one read of stdin (200 KiB of keys it ignores)', () =>
    expectAnswer(`protocol=https\nhost=git.example.com\n${'state[]=x\n'.repeat(20_000)}\n`))
  test('an empty capability[]= drops an earlier authtype', () =>
    expectAnswer('capability[]=authtype\ncapability[]=\nprotocol=https\nhost=git.example.com\n\n'))

  test('capability[]=authtype: a Bearer credential, exact bytes', async () => {
    const { token, expiry, refreshToken } = known()
    const result = await credential('get', 'capability[]=authtype\nprotocol=https\nhost=git.example.com\n\n')
    expect(result).toEqual(
      expect.objectContaining({
        code: 0,
        stderr: '',
        stdout: `capability[]=authtype\nauthtype=Bearer\ncredential=${token}\nephemeral=true\npassword_expiry_utc=${expiry}\n`,
      }),
    )
    expect(result.stdout).not.toContain(refreshToken)
  })

  test('never oauth_refresh_token, never the refresh token', async () => {
    const { refreshToken } = known()
    for (const input of [
      'protocol=https\nhost=git.example.com\n\n',
      'capability[]=authtype\nprotocol=https\nhost=git.example.com\n\n',
      'capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com\nwwwauth[]=Bearer\n\n',
    ]) {
      const result = await credential('get', input)
      expect(result.code).toBe(0)
      expect(result.stdout).not.toBe('')
      expect(result.stdout).not.toContain('oauth_refresh_token')
      expect(result.stdout).not.toContain(refreshToken)
      expect(result.stderr).not.toContain(refreshToken)
    }
  })
})

describe('git-credential get stays silent', () => {
  sharedLogin()
  test('a --git-host on another port', () => expectSilence('protocol=https\nhost=git.example.com:9999\n\n'))
  test('a git host without the port it was added with', () =>
    expectSilence(`protocol=https\nhost=${new URL(server.url).hostname}\n\n`))
  test('http to a host that is not loopback', () => expectSilence('protocol=http\nhost=git.example.com\n\n'))
  test('another protocol', () => expectSilence('protocol=ssh\nhost=git.example.com\n\n'))
  test('no protocol', () => expectSilence('host=git.example.com\n\n'))
  test('an unknown host', () => expectSilence('protocol=https\nhost=github.com\n\n'))
  test('a host that only ends like ours', () => expectSilence('protocol=https\nhost=evilgit.example.com\n\n'))
  test('no host', () => expectSilence('protocol=https\npath=org/repo.git\n\n'))
  test("a username that is not the env's", () =>
    expectSilence('protocol=https\nhost=git.example.com\nusername=bob\n\n'))
  test("a username in url= that is not the env's", () =>
    expectSilence('url=https://bob@git.example.com/org/repo.git\n\n'))
  test('our host after the blank line does not count', () =>
    expectSilence('protocol=https\nhost=github.com\n\nhost=git.example.com\n'))
  test('empty input', () => expectSilence(''))
  test('garbage text', () => expectSilence('hello there\nthis is not git\n'))
  test('a line without "="', () => expectSilence('protocol=https\nhost git.example.com\n\n'))
  test('a NUL byte', () => expectSilence(Buffer.from('protocol=https\nhost=git.example.com\u0000\n\n')))
  test('random binary bytes', () => expectSilence(Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), randomBytes(4096)])))
  test('invalid UTF-8 in an otherwise good request', () =>
    expectSilence(
      Buffer.concat([
        Buffer.from('protocol=https\nhost=git.example.com\npath='),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('\n\n'),
      ]),
    ))
  test('a line over 64 KiB', () =>
    expectSilence(`protocol=https\nhost=git.example.com\npath=${'a'.repeat(64 * 1024)}\n\n`))
  test('a request over 1 MiB', () =>
    expectSilence(`protocol=https\nhost=git.example.com\n${'state[]=x\n'.repeat(120_000)}\n`))
})

describe('git-credential store and erase', () => {
  freshSandbox()
  test('store does nothing: exit 0, no output, nothing changed', async () => {
    await login()
    const { token } = await current()
    const before = credentialsBytes()
    const result = await credential(
      'store',
      `protocol=https\nhost=git.example.com\nusername=alice\npassword=${token}\npassword_expiry_utc=1\n\n`,
    )
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(credentialsBytes().equals(before)).toBe(true)
  })

  test('a request for another user costs no refresh, even when the token is stale', async () => {
    await login()
    const { token } = await current()
    await credential('erase', `protocol=https\nhost=git.example.com\npassword=${token}\n\n`)
    const refreshes = server.count(REFRESH)
    const before = credentialsBytes()
    const result = await credential('get', 'protocol=https\nhost=git.example.com\nusername=bob\n\n')
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    expect(server.count(REFRESH)).toBe(refreshes)
    expect(credentialsBytes().equals(before)).toBe(true)
  })

  test('erase with the current token drops the cached access token, keeps the refresh token; the next get refreshes', async () => {
    await login()
    const { token, refreshToken } = await current()
    const refreshes = server.count(REFRESH)

    const erased = await credential(
      'erase',
      `protocol=https\nhost=git.example.com\nusername=alice\npassword=${token}\n\n`,
    )
    expect(erased).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
    const after = JSON.parse(credentialsBytes().toString('utf8')) as { envs: Record<string, StoredRecord> }
    expect(after.envs[ENV]?.accessToken).toBeUndefined()
    expect(after.envs[ENV]?.refreshToken).toBe(refreshToken)
    expect(credentialsBytes().includes(token)).toBe(false)
    expect(server.count(REFRESH)).toBe(refreshes)

    const got = await credential('get', 'protocol=https\nhost=git.example.com\n\n')
    expect(server.count(REFRESH)).toBe(refreshes + 1)
    const fresh = stored()
    expect(fresh.accessToken).not.toBe(token)
    expect(got).toEqual(
      expect.objectContaining({
        code: 0,
        stdout: `username=alice\npassword=${fresh.accessToken}\npassword_expiry_utc=${Math.floor(fresh.accessExpiresAt / 1000)}\n`,
      }),
    )
  })

  test('erase with the authtype credential drops it the same way', async () => {
    await login()
    const { token, refreshToken } = await current()
    const erased = await credential(
      'erase',
      `capability[]=authtype\nprotocol=https\nhost=git.example.com\nauthtype=Bearer\ncredential=${token}\n\n`,
    )
    expect(erased).toEqual(expect.objectContaining({ code: 0, stdout: '' }))
    const after = JSON.parse(credentialsBytes().toString('utf8')) as { envs: Record<string, StoredRecord> }
    expect(after.envs[ENV]?.accessToken).toBeUndefined()
    expect(after.envs[ENV]?.refreshToken).toBe(refreshToken)
  })

  test('erase for another host changes nothing', async () => {
    await login()
    const { token } = await current()
    const before = credentialsBytes()
    const result = await credential('erase', `protocol=https\nhost=github.com\nusername=alice\npassword=${token}\n\n`)
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '' }))
    expect(credentialsBytes().equals(before)).toBe(true)
  })

  test('erase with a token that is not the cached one changes nothing', async () => {
    await login()
    await current()
    const before = credentialsBytes()
    const result = await credential(
      'erase',
      'protocol=https\nhost=git.example.com\nusername=alice\npassword=some-older-token\n\n',
    )
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '' }))
    expect(credentialsBytes().equals(before)).toBe(true)
  })
})

describe('git-credential when a login is needed', () => {
  freshSandbox()
  test('get prints nothing, exits 0, and names the login command on stderr', async () => {
    const result = await credential('get', 'protocol=https\nhost=git.example.com\n\n')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('tokenctl login -e prod')
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(fs.existsSync(credentialsFile())).toBe(false)
  })

  test('a request for another host says nothing at all', async () => {
    const result = await credential('get', 'protocol=https\nhost=github.com\n\n')
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }))
  })
})

/**
 * `tokenctl setup-git` (docs/design.md#commands, docs/design.md#git-and-curl): the built CLI as a subprocess writing a real git
 * config — a throwaway global file (GIT_CONFIG_GLOBAL) or a throwaway repository's — read
 * back with git itself. No network unless a test says so.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { configureGitHelper } from '../../src/integrations/git-config.js'
import { startApiServer } from '../support/api-server.js'
import { BIN, type RunResult, runProcess, Sandbox } from '../support/cli.js'

const ENV = 'prod'
/** Loopback, so http is allowed and setup-git also writes the http:// key; nothing listens there. */
const URL_HOST = '127.0.0.1:8123'
/** This Node and this script, both absolute: git needs no `node` on PATH. */
const HELPER = `!'${process.execPath}' '${BIN}' git-credential -e '${ENV}'`
/** What an older tokenctl wrote: the script alone, run through its `#!/usr/bin/env node`. */
const OLD_HELPER = `!'${BIN}' git-credential -e '${ENV}'`

let sandbox: Sandbox
let globalConfig: string

beforeEach(async () => {
  sandbox = new Sandbox()
  globalConfig = path.join(sandbox.dir, 'gitconfig-global')
})

afterEach(() => sandbox.cleanup())

/** Everything git and tokenctl see: the sandbox, a private global git config, no system one. */
function environ(extra: Record<string, string> = {}): Record<string, string> {
  return sandbox.env({
    GIT_CONFIG_GLOBAL: globalConfig,
    GIT_CONFIG_NOSYSTEM: '1',
    // A repository around the sandbox (if /tmp were in one) must not be found.
    GIT_CEILING_DIRECTORIES: sandbox.dir,
    GIT_TERMINAL_PROMPT: '0',
    TOKENCTL_STORE: 'file',
    ...extra,
  })
}

/** tokenctl in `cwd` (runCli has no cwd). */
function tokenctl(args: string[], options: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  return runProcess(process.execPath, [BIN, ...args], {
    env: environ(),
    cwd: options.cwd ?? sandbox.dir,
    input: options.input,
  })
}

async function ok(args: string[], options: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  const result = await tokenctl(args, options)
  expect({ code: result.code, stdout: result.stdout, args }).toEqual({ code: 0, stdout: '', args })
  return result
}

function git(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string> } = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('git', args, {
    env: options.env ?? environ(),
    cwd: options.cwd ?? sandbox.dir,
    input: options.input,
    encoding: 'utf8',
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The values of one multi-valued key, in order ([] when there are none). */
function values(key: string, scope: '--global' | '--local' = '--global', cwd?: string): string[] {
  const result = git(['config', scope, '--get-all', key], { cwd })
  if (result.code === 1) return []
  expect(result.code).toBe(0)
  return result.stdout.replace(/\n$/, '').split('\n')
}

/** Every credential.* entry of a scope, as git lists them. */
function credentialEntries(scope: '--global' | '--local' = '--global', cwd?: string): string[] {
  const result = git(['config', scope, '--get-regexp', '^credential\\.'], { cwd })
  if (result.code === 1) return []
  expect(result.code).toBe(0)
  return result.stdout.replace(/\n$/, '').split('\n')
}

const helperKey = (host: string, scheme = 'https') => `credential.${scheme}://${host}.helper`

async function addEnv(...extra: string[]): Promise<void> {
  await ok([
    'env',
    'add',
    ENV,
    '--url',
    `http://${URL_HOST}`,
    '--git-host',
    'git.example.com',
    '--git-host',
    'git.example.com:8443',
    ...extra,
  ])
}

function envSettings(name = ENV): { gitHosts?: string[] } {
  return (
    (JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8')) as { envs: Record<string, { gitHosts?: string[] }> }).envs[
      name
    ] ?? {}
  )
}

/** ENV at `url` with git.example.com as its git host, logged in as alice: its access token. */
async function loggedInWithGitHost(url: string): Promise<string> {
  await ok(['env', 'add', ENV, '--url', url, '--git-host', 'git.example.com'])
  await ok(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], { input: 'wonderland\n' })
  const token = (await tokenctl(['token', '-e', ENV])).stdout.replace(/\n$/, '')
  expect(token).not.toBe('')
  return token
}

describe('setup-git', () => {
  test('writes, per host, an empty helper and then tokenctl, in the global config', async () => {
    await addEnv()
    await ok(['setup-git', '-e', ENV])
    for (const host of [URL_HOST, 'git.example.com', 'git.example.com:8443'])
      expect(values(helperKey(host))).toEqual(['', HELPER])
    // Loopback hosts also get the http:// key (a local git server); the others do not.
    expect(values(helperKey(URL_HOST, 'http'))).toEqual(['', HELPER])
    expect(values(helperKey('git.example.com', 'http'))).toEqual([])
    expect(values(helperKey('git.example.com:8443', 'http'))).toEqual([])
    expect(credentialEntries()).toHaveLength(8)
    // Nothing outside the global file: no repository config was created in the sandbox.
    expect(fs.existsSync(path.join(sandbox.dir, '.git'))).toBe(false)
  })

  test('running it twice leaves the file byte-identical', async () => {
    await addEnv()
    await ok(['setup-git', '-e', ENV])
    const once = fs.readFileSync(globalConfig)
    await ok(['setup-git', '-e', ENV])
    expect(fs.readFileSync(globalConfig).equals(once)).toBe(true)
  })

  test('--host adds a host and records it on the env', async () => {
    await addEnv()
    await ok(['setup-git', '-e', ENV, '--host', 'H.Example.com'])
    expect(values(helperKey('h.example.com'))).toEqual(['', HELPER])
    expect(envSettings().gitHosts).toEqual(['git.example.com', 'git.example.com:8443', 'h.example.com'])
    // Remembered: a later run without --host still covers it, and changes nothing.
    const before = fs.readFileSync(globalConfig)
    await ok(['setup-git', '-e', ENV])
    expect(fs.readFileSync(globalConfig).equals(before)).toBe(true)
  })

  test('--host that is not a host name is a usage error', async () => {
    await addEnv()
    const result = await tokenctl(['setup-git', '-e', ENV, '--host', 'https://h.example.com/path'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(fs.existsSync(globalConfig)).toBe(false)
    expect(envSettings().gitHosts).toEqual(['git.example.com', 'git.example.com:8443'])
  })

  test('--unset removes every entry, and only ours', async () => {
    await addEnv()
    expect(git(['config', '--global', 'user.name', 'Someone']).code).toBe(0)
    expect(git(['config', '--global', 'credential.helper', 'store']).code).toBe(0)
    await ok(['setup-git', '-e', ENV, '--host', 'h.example.com'])
    expect(credentialEntries()).toHaveLength(11)
    await ok(['setup-git', '-e', ENV, '--unset'])
    expect(credentialEntries()).toEqual(['credential.helper store'])
    expect(values('user.name')).toEqual(['Someone'])
    // Unsetting twice is fine too.
    await ok(['setup-git', '-e', ENV, '--unset'])
    expect(credentialEntries()).toEqual(['credential.helper store'])
  })

  test("--local writes to the repository's .git/config, not the global file", async () => {
    await addEnv()
    const repo = path.join(sandbox.dir, 'repo')
    fs.mkdirSync(repo)
    expect(git(['init', '-q'], { cwd: repo }).code).toBe(0)
    await ok(['setup-git', '-e', ENV, '--local'], { cwd: repo })
    expect(values(helperKey('git.example.com'), '--local', repo)).toEqual(['', HELPER])
    expect(values(helperKey(URL_HOST, 'http'), '--local', repo)).toEqual(['', HELPER])
    expect(fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8')).toContain(
      '[credential "https://git.example.com:8443"]',
    )
    expect(credentialEntries()).toEqual([])
    expect(fs.existsSync(globalConfig)).toBe(false)

    await ok(['setup-git', '-e', ENV, '--local', '--unset'], { cwd: repo })
    expect(credentialEntries('--local', repo)).toEqual([])
  })

  test('--local outside a repository is exit 2, and nothing is written', async () => {
    await addEnv()
    const plain = path.join(sandbox.dir, 'not-a-repo')
    fs.mkdirSync(plain)
    const result = await tokenctl(['setup-git', '-e', ENV, '--local'], { cwd: plain })
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toMatch(/repository/)
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(fs.existsSync(globalConfig)).toBe(false)
    expect(fs.readdirSync(plain)).toEqual([])
  })

  test('an inherited credential.helper=store stays for other hosts, and is reset for ours', async () => {
    const server = await startApiServer()
    try {
      const token = await loggedInWithGitHost(server.url)

      expect(git(['config', '--global', 'credential.helper', 'store']).code).toBe(0)
      fs.writeFileSync(
        path.join(sandbox.home, '.git-credentials'),
        'https://stored:stored-secret@git.example.com\nhttps://stored:other-secret@other.example.com\n',
        { mode: 0o600 },
      )
      await ok(['setup-git', '-e', ENV])

      expect(values('credential.helper')).toEqual(['store'])
      expect(values(helperKey('git.example.com'))).toEqual(['', HELPER])

      // git itself: our host gets tokenctl's token, not the stored password...
      const ours = git(['credential', 'fill'], { input: 'protocol=https\nhost=git.example.com\n\n' })
      expect(ours.code).toBe(0)
      // git >= 2.41 passes password_expiry_utc on; older ones drop it.
      expect(ours.stdout.replace(/^password_expiry_utc=\d+\n/m, '')).toBe(
        `protocol=https\nhost=git.example.com\nusername=alice\npassword=${token}\n`,
      )
      expect(ours.stdout).not.toContain('stored-secret')
      // ...and another host still gets the inherited store helper.
      const other = git(['credential', 'fill'], { input: 'protocol=https\nhost=other.example.com\n\n' })
      expect(other).toMatchObject({
        code: 0,
        stdout: 'protocol=https\nhost=other.example.com\nusername=stored\npassword=other-secret\n',
      })
    } finally {
      await server.close()
    }
  })

  test('an env with no git host: exit 2 naming --host; with --host it works and is remembered', async () => {
    // An oauth2 env with only a token endpoint has neither --url nor --issuer, so no host.
    await ok([
      'env',
      'add',
      'bare',
      '--protocol',
      'oauth2',
      '--token-url',
      'http://127.0.0.1:8124/token',
      '--client-id',
      'cli',
    ])
    const refused = await tokenctl(['setup-git', '-e', 'bare'])
    expect(refused).toMatchObject({ code: 2, stdout: '' })
    expect(refused.stderr).toContain('no git hosts')
    expect(refused.stderr).toContain('--host')
    expect(fs.existsSync(globalConfig)).toBe(false)

    await ok(['setup-git', '-e', 'bare', '--host', 'git.example.com'])
    expect(credentialEntries()).toEqual([
      `credential.https://git.example.com.helper `,
      `credential.https://git.example.com.helper !'${process.execPath}' '${BIN}' git-credential -e 'bare'`,
    ])
    expect(envSettings('bare').gitHosts).toEqual(['git.example.com'])
  })

  test('an unknown env is exit 2 and writes nothing', async () => {
    const result = await tokenctl(['setup-git', '-e', 'nope'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(fs.existsSync(globalConfig)).toBe(false)
  })
  test('a line written by an older tokenctl (the script alone) is replaced, not kept beside the new one', async () => {
    await addEnv()
    for (const host of [URL_HOST, 'git.example.com']) {
      expect(git(['config', '--global', '--add', helperKey(host), '']).code).toBe(0)
      expect(git(['config', '--global', '--add', helperKey(host), OLD_HELPER]).code).toBe(0)
    }
    await ok(['setup-git', '-e', ENV])
    for (const host of [URL_HOST, 'git.example.com', 'git.example.com:8443'])
      expect(values(helperKey(host))).toEqual(['', HELPER])
    expect(credentialEntries()).toHaveLength(8)
    expect(fs.readFileSync(globalConfig, 'utf8')).not.toContain(`helper = !'${BIN}'`)
  })

  describe('a helper that names a program that is gone', () => {
    /** status both ways — the fast path and the full one — which must say the same bytes. */
    async function status(args: string[] = []): Promise<RunResult> {
      const fast = await tokenctl(['status', '-e', ENV, ...args])
      const full = await runProcess(process.execPath, [BIN, 'status', '-e', ENV, ...args], {
        env: environ({ TOKENCTL_FAST_PATH: '0' }),
        cwd: sandbox.dir,
      })
      expect({ code: full.code, stdout: full.stdout, stderr: full.stderr }).toEqual({
        code: fast.code,
        stdout: fast.stdout,
        stderr: fast.stderr,
      })
      return fast
    }
    const warningOf = (result: RunResult) => result.stderr.split('\n').filter((line) => line.includes('setup-git'))

    test('status warns once, with the fix, for a missing Node binary or script; not after setup-git, not with -q', async () => {
      await addEnv()
      await ok(['setup-git', '-e', ENV])
      expect(warningOf(await status())).toEqual([])

      const goneNode = path.join(sandbox.dir, 'nvm', 'v20.1.0', 'bin', 'node')
      const stale = `!'${goneNode}' '${BIN}' git-credential -e '${ENV}'`
      expect(git(['config', '--global', '--replace-all', helperKey('git.example.com'), stale, '^!']).code).toBe(0)
      expect(values(helperKey('git.example.com'))).toEqual(['', stale])
      const warned = await status()
      expect(warned.code).toBe(3)
      expect(warningOf(warned)).toEqual([
        `Warning: git's credential helper for env ${ENV} names ${goneNode}, which no longer exists. Run: tokenctl setup-git -e ${ENV}`,
      ])
      // --json as well (stdout stays the JSON); -q silences it.
      expect(warningOf(await status(['--json']))).toHaveLength(1)
      expect((await status(['-q'])).stderr).toBe('')

      // An older tokenctl's line naming a script that has moved away.
      const goneScript = path.join(sandbox.dir, 'old', 'bin', 'run.js')
      const old = `!'${goneScript}' git-credential -e '${ENV}'`
      expect(git(['config', '--global', '--replace-all', helperKey(URL_HOST, 'http'), old, '^!']).code).toBe(0)
      expect(warningOf(await status())).toEqual([
        `Warning: git's credential helper for env ${ENV} names ${goneNode} and ${goneScript}, which no longer exist. Run: tokenctl setup-git -e ${ENV}`,
      ])

      // Another env's line, or a host that is not the env's, is not this env's business.
      expect(
        git([
          'config',
          '--global',
          '--replace-all',
          helperKey('git.example.com'),
          stale.replace(`'${ENV}'`, "'other'"),
          '^!',
        ]).code,
      ).toBe(0)
      expect(git(['config', '--global', '--replace-all', helperKey(URL_HOST, 'http'), HELPER, '^!']).code).toBe(0)
      expect(git(['config', '--global', '--add', helperKey('elsewhere.example.com'), stale]).code).toBe(0)
      expect(warningOf(await status())).toEqual([])

      expect(git(['config', '--global', '--replace-all', helperKey('git.example.com'), stale, '^!']).code).toBe(0)
      expect(warningOf(await status())).toHaveLength(1)
      await ok(['setup-git', '-e', ENV])
      expect(warningOf(await status())).toEqual([])
    })
  })

  describe('git with no node on PATH', () => {
    /** A PATH without node, as a GUI app's or a finished nvm shell's may be. */
    function gitOnlyPath(): string {
      const dir = path.join(sandbox.dir, 'git-only-bin')
      fs.mkdirSync(dir)
      // touch too: were a path's shell syntax ever run, the payload must be able to leave its mark.
      for (const program of ['git', 'touch']) {
        const found = spawnSync('/bin/sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim()
        fs.symlinkSync(found, path.join(dir, program))
      }
      return dir
    }

    /** Names a shell would act on: a space, `$`, quotes, command substitution, a backslash. */
    const HOSTILE = `n o$de '$(touch pwned-1)' "\`touch pwned-2\`" $HOME \\ ;touch pwned-3;x`

    test('the helper setup-git writes answers git, and a Node or script path full of shell syntax runs nothing', async () => {
      const server = await startApiServer()
      try {
        const token = await loggedInWithGitHost(server.url)
        const noNode = environ({ PATH: gitOnlyPath() })
        expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: noNode }).status).not.toBe(0)
        const fill = () =>
          git(['credential', 'fill'], { input: 'protocol=https\nhost=git.example.com\n\n', env: noNode })
        const answer = `protocol=https\nhost=git.example.com\nusername=alice\npassword=${token}\n`

        // As setup-git writes it today.
        await ok(['setup-git', '-e', ENV])
        const plain = fill()
        expect(plain.code).toBe(0)
        expect(plain.stdout.replace(/^password_expiry_utc=\d+\n/m, '')).toBe(answer)

        // The script run through a path full of shell syntax, by setup-git itself.
        const hostileDir = path.join(sandbox.dir, HOSTILE)
        fs.mkdirSync(hostileDir)
        const script = path.join(hostileDir, `run '$(touch pwned-4)'.js`)
        fs.symlinkSync(BIN, script)
        const viaHostile = await runProcess(process.execPath, [script, 'setup-git', '-e', ENV], {
          env: environ(),
          cwd: sandbox.dir,
        })
        expect(viaHostile).toMatchObject({ code: 0, stdout: '' })
        expect(values(helperKey('git.example.com'))[1]).toContain(script.replace(/'/g, `'\\''`))
        const viaScript = fill()
        expect(viaScript.code).toBe(0)
        expect(viaScript.stdout.replace(/^password_expiry_utc=\d+\n/m, '')).toBe(answer)

        // Node itself at such a path (process.execPath is always the real binary, so the
        // adapter is given the link directly).
        const node = path.join(hostileDir, 'node')
        fs.symlinkSync(process.execPath, node)
        await configureGitHelper({
          hosts: ['git.example.com'],
          envName: ENV,
          program: { node, script },
          scope: 'global',
          environ: environ(),
        })
        const viaNode = fill()
        // Nothing of the paths ran, wherever git's shell could have run it.
        for (const dir of [sandbox.dir, sandbox.home, hostileDir])
          expect(fs.readdirSync(dir).filter((name) => name.startsWith('pwned'))).toEqual([])
        expect(viaNode.code).toBe(0)
        expect(viaNode.stdout.replace(/^password_expiry_utc=\d+\n/m, '')).toBe(answer)

        // Each path is one single-quoted word of the line.
        expect(values(helperKey('git.example.com'))).toEqual([
          '',
          `!'${node.replace(/'/g, `'\\''`)}' '${script.replace(/'/g, `'\\''`)}' git-credential -e '${ENV}'`,
        ])
        // And status sees both programs there: no warning.
        const status = await tokenctl(['status', '-e', ENV])
        expect(status.stderr).not.toContain('setup-git')
      } finally {
        await server.close()
      }
    })
  })
})

/**
 * git end to end (`setup-git` in docs/design.md#commands, docs/design.md#git-and-curl): real `git clone`, `fetch` and `push` over smart
 * HTTP against `git http-backend` behind Basic auth, where the only password that works
 * is an access token the login API still accepts. git gets it from `tokenctl
 * git-credential`, configured by `tokenctl setup-git` in a throwaway global git config.
 * No mocks: the built CLI, real git, the JSON login API server of test/support.
 */

import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, cleanEnv, runProcess, Sandbox } from '../support/cli.js'
import { type GitServer, gitHttpBackendPath, startGitServer } from '../support/git-server.js'

const REFRESH = '/auth/token/refresh'
const ENV = 'prod'

interface StoredRecord {
  refreshToken?: string
  accessToken?: string
  accessExpiresAt?: number
  user?: string
}

interface GitResult {
  code: number | null
  stdout: string
  stderr: string
}

let sandbox: Sandbox
let api: ApiServer
let gitServer: GitServer
let gitConfig: string
let workDir: string
/** git >= 2.46 sends `capability[]=authtype`; tokenctl then answers Bearer (docs/design.md#git-and-curl). */
let bearerGit = false

beforeAll(async () => {
  // Fails the suite loudly (not a skip) when git or its http-backend is missing: CI installs them.
  await gitHttpBackendPath()
  const version = await spawnCollect('git', ['--version'], { env: cleanEnv() })
  const match = /(\d+)\.(\d+)/.exec(version.stdout)
  if (!match) throw new Error(`cannot read the git version from: ${version.stdout}`)
  bearerGit = Number(match[1]) > 2 || (Number(match[1]) === 2 && Number(match[2]) >= 46)
})

/** How an accepted request authenticated with `token`: as alice over Basic, or (git >= 2.46) with Bearer. */
function authedWith(token: string, ok = true): Record<string, unknown> {
  return bearerGit ? { scheme: 'Bearer', ok, password: token } : { scheme: 'Basic', user: 'alice', ok, password: token }
}

beforeEach(async () => {
  sandbox = new Sandbox()
  api = await startApiServer()
  gitServer = await startGitServer({ isValidToken: (token) => api.isAccessTokenActive(token) })
  gitConfig = path.join(sandbox.dir, 'gitconfig')
  fs.writeFileSync(gitConfig, '')
  workDir = path.join(sandbox.dir, 'work')
  fs.mkdirSync(workDir)

  expect(await tokenctl(['env', 'add', ENV, '--url', api.url])).toMatchObject({ code: 0 })
  expect(await tokenctl(['login', '-e', ENV, '--username', 'alice', '--password-stdin'], 'wonderland\n')).toMatchObject(
    { code: 0, stdout: '' },
  )
  const setup = await tokenctl(['setup-git', '-e', ENV, '--host', gitServer.host])
  expect(setup).toMatchObject({ code: 0, stdout: '' })
})

afterEach(async () => {
  await gitServer?.close()
  await api?.close()
  sandbox?.cleanup()
})

/**
 * One environment for tokenctl and for git (and so for the helper git runs): the sandbox's
 * HOME, TOKENCTL_* and XDG_* variables, the file store, a throwaway global git config, no
 * system config, no prompt, no askpass, and `node` on PATH for bin/run.js's shebang.
 */
function environ(extra: Record<string, string | undefined> = {}): Record<string, string> {
  return sandbox.env({
    TOKENCTL_STORE: 'file',
    GIT_CONFIG_GLOBAL: gitConfig,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    SSH_ASKPASS: undefined,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    GIT_AUTHOR_NAME: 'Alice',
    GIT_AUTHOR_EMAIL: 'alice@example.test',
    GIT_COMMITTER_NAME: 'Alice',
    GIT_COMMITTER_EMAIL: 'alice@example.test',
    ...extra,
  })
}

function spawnCollect(
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string>; input?: string },
): Promise<GitResult> {
  return runProcess(command, args, { ...options, timeoutMs: 45_000 })
}

function tokenctl(args: string[], input?: string): Promise<GitResult> {
  return spawnCollect(process.execPath, [BIN, ...args], { env: environ(), input })
}

function git(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<GitResult> {
  return spawnCollect('git', args, { cwd: options.cwd ?? workDir, env: environ(options.env) })
}

function stored(): StoredRecord {
  const file = path.join(sandbox.configDir, 'credentials.json')
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { envs: Record<string, StoredRecord> }
  const record = data.envs[ENV]
  if (!record) throw new Error(`no stored record for ${ENV}`)
  return record
}

/** git's own credential files: none may exist, whatever git did. */
function gitCredentialFiles(): string[] {
  return [path.join(sandbox.home, '.git-credentials'), path.join(sandbox.home, '.config', 'git', 'credentials')].filter(
    (file) => fs.existsSync(file),
  )
}

function expectOk(result: GitResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr}`)
}

const clonePath = () => path.join(workDir, 'clone')

async function cloneRepo(): Promise<void> {
  expectOk(await git(['clone', gitServer.repoUrl, clonePath()]), 'git clone')
}

test('setup-git writes only an empty helper and tokenctl for the git host, and no generic credential helper', async () => {
  const listed = await git(['config', '--global', '--list'])
  expectOk(listed, 'git config --list')
  const lines = listed.stdout.trim().split('\n')
  for (const line of lines) expect(line).toMatch(/^credential\.https?:\/\/127\.0\.0\.1:\d+\.helper=/)
  const helpers = await git(['config', '--global', '--get-all', `credential.${gitServer.url}.helper`])
  expectOk(helpers, 'git config --get-all')
  // This Node and this script by absolute path: git needs no `node` on PATH.
  expect(helpers.stdout).toBe(`\n!'${process.execPath}' '${BIN}' git-credential -e '${ENV}'\n`)
  // No `credential.helper` (store, cache, a manager) that could write the token somewhere.
  const generic = await git(['config', '--global', '--get-all', 'credential.helper'])
  expect(generic.code).toBe(1)
  expect(generic.stdout).toBe('')
})

test('git clone, fetch and push authenticate with the access token, and git writes the credential nowhere', async () => {
  const token = stored().accessToken
  expect(token).toBeDefined()

  await cloneRepo()
  expect(fs.readFileSync(path.join(clonePath(), 'README.md'), 'utf8')).toBe('# test repository\n')

  fs.writeFileSync(path.join(clonePath(), 'change.txt'), 'pushed by the e2e test\n')
  expectOk(await git(['add', 'change.txt'], { cwd: clonePath() }), 'git add')
  expectOk(await git(['commit', '-q', '-m', 'a change from alice'], { cwd: clonePath() }), 'git commit')
  expectOk(await git(['push', 'origin', 'main'], { cwd: clonePath() }), 'git push')
  expectOk(await git(['fetch', 'origin'], { cwd: clonePath() }), 'git fetch')

  // The server really has the pushed commit.
  const log = await git(['--git-dir', gitServer.repoDir, 'log', '--format=%s', 'main'])
  expectOk(log, 'git log on the server repo')
  expect(log.stdout).toBe('a change from alice\ninitial commit\n')

  // Every authenticated request came as alice (Basic; the logged-in user) with the access
  // token tokenctl stored, and the auth server accepts it. No refresh was needed.
  expect(gitServer.authAttempts.length).toBeGreaterThanOrEqual(4)
  for (const attempt of gitServer.authAttempts) expect(attempt).toMatchObject(authedWith(token!))
  expect(api.isAccessTokenActive(token!)).toBe(true)
  expect(gitServer.authAttempts.some((a) => a.url.includes('git-receive-pack') && a.method === 'POST')).toBe(true)
  expect(api.count(REFRESH)).toBe(0)

  // Nothing of the credential was written by git: no credential file, not in the remote URL,
  // the token only in tokenctl's chosen store.
  expect(gitCredentialFiles()).toEqual([])
  const remote = await git(['config', 'remote.origin.url'], { cwd: clonePath() })
  expect(remote.stdout).toBe(`${gitServer.repoUrl}\n`)
  expect(sandbox.filesContaining(token!)).toEqual([path.join(sandbox.configDir, 'credentials.json')])
})

test('git clone and fetch authenticate with no node on PATH (as from a GUI app, or an nvm shell that is gone)', async () => {
  const gitOnly = path.join(sandbox.dir, 'git-only-bin')
  fs.mkdirSync(gitOnly)
  const found = await spawnCollect('/bin/sh', ['-c', 'command -v git'], { env: cleanEnv() })
  fs.symlinkSync(found.stdout.trim(), path.join(gitOnly, 'git'))
  const noNode = { PATH: gitOnly }
  expect((await spawnCollect('/bin/sh', ['-c', 'command -v node'], { env: environ(noNode) })).code).not.toBe(0)

  expectOk(await git(['clone', gitServer.repoUrl, clonePath()], { env: noNode }), 'git clone without node on PATH')
  expectOk(await git(['fetch', 'origin'], { cwd: clonePath(), env: noNode }), 'git fetch without node on PATH')
  expect(fs.readFileSync(path.join(clonePath(), 'README.md'), 'utf8')).toBe('# test repository\n')
  const token = stored().accessToken!
  expect(gitServer.authAttempts.length).toBeGreaterThanOrEqual(2)
  for (const attempt of gitServer.authAttempts) expect(attempt).toMatchObject(authedWith(token))
})

test('a token revoked server-side: the next git command fails and erases it; the one after succeeds with a refreshed token', async () => {
  await cloneRepo()
  const before = stored()
  const oldToken = before.accessToken!
  const attemptsBefore = gitServer.authAttempts.length
  expect(api.count(REFRESH)).toBe(0)

  api.expireAccessTokens()
  expect(api.isAccessTokenActive(oldToken)).toBe(false)

  // What git (2.39 here) does: the helper's credential is refused (401), so git runs the
  // helper's `erase` and fails this command; it does not ask the helper again within it.
  const rejected = await git(['fetch', 'origin'], { cwd: clonePath(), env: { GIT_TRACE: '1' } })
  expect(rejected.code).not.toBe(0)
  expect(rejected.stderr).toMatch(/Authentication failed/)
  expect(rejected.stderr).toMatch(/git-credential -e \S*prod\S* get/)
  expect(rejected.stderr).toMatch(/git-credential -e \S*prod\S* erase/)
  const refused = gitServer.authAttempts.slice(attemptsBefore)
  expect(refused).toEqual([expect.objectContaining(authedWith(oldToken, false))])
  // `erase` dropped the cached access token and kept the refresh token; nothing refreshed yet.
  const afterErase = stored()
  expect(afterErase.accessToken).toBeUndefined()
  expect(afterErase.refreshToken).toBe(before.refreshToken)
  expect(api.count(REFRESH)).toBe(0)

  // The next command: `get` finds no access token, refreshes, and git gets in.
  const attemptsBeforeRetry = gitServer.authAttempts.length
  const retried = await git(['fetch', 'origin'], { cwd: clonePath() })
  expectOk(retried, 'git fetch after the erase')
  expect(api.count(REFRESH, 'POST')).toBe(1)
  const after = stored()
  const newToken = after.accessToken!
  expect(newToken).toBeDefined()
  expect(newToken).not.toBe(oldToken)
  expect(after.refreshToken).not.toBe(before.refreshToken) // rotated, and the new one kept
  expect(api.isAccessTokenActive(newToken)).toBe(true)
  const accepted = gitServer.authAttempts.slice(attemptsBeforeRetry)
  expect(accepted.length).toBeGreaterThan(0)
  for (const attempt of accepted) expect(attempt).toMatchObject(authedWith(newToken))

  // And a push with it works too, with no further refresh.
  fs.writeFileSync(path.join(clonePath(), 'after-refresh.txt'), 'ok\n')
  expectOk(await git(['add', 'after-refresh.txt'], { cwd: clonePath() }), 'git add')
  expectOk(await git(['commit', '-q', '-m', 'after the refresh'], { cwd: clonePath() }), 'git commit')
  expectOk(await git(['push', 'origin', 'main'], { cwd: clonePath() }), 'git push')
  expect(api.count(REFRESH)).toBe(1)
  expect(gitCredentialFiles()).toEqual([])
})

test('with the helper removed (setup-git --unset), git is refused at once: no prompt, no hang', async () => {
  const unset = await tokenctl(['setup-git', '-e', ENV, '--unset'])
  expect(unset).toMatchObject({ code: 0, stdout: '' })
  const result = await git(['ls-remote', gitServer.repoUrl])
  expect(result.code).not.toBe(0)
  expect(gitServer.authAttempts).toEqual([])
})

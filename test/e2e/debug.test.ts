/**
 * TOKENCTL_DEBUG=1 (docs/design.md#secrets-never-leak) and the stderr redaction that stands under every writer:
 * what the debug lines say (requests with method, URL, status and time; store calls by
 * kind, never contents; lock waits), that they are absent without the variable, and that
 * even oclif's own errors cannot print a secret. The built CLI against the real server.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { type RunResult, Sandbox } from '../support/cli.js'

const PASSWORD = 'debug-test-Pa55word'

let sandbox: Sandbox
let server: ApiServer

beforeAll(async () => {
  sandbox = new Sandbox()
  server = await startApiServer({ users: { alice: PASSWORD } })
  expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
  expect(await run(['login', '--username', 'alice', '--password-stdin'], {}, `${PASSWORD}\n`)).toMatchObject({
    code: 0,
  })
})
afterAll(async () => {
  await server.close()
  sandbox.cleanup()
})

function run(args: string[], env: Record<string, string> = {}, input?: string): Promise<RunResult> {
  return sandbox.run(args, { env: { TOKENCTL_STORE: 'file', ...env }, input })
}

const credentials = () => path.join(sandbox.configDir, 'credentials.json')

test('a refresh, step by step: the request, the store calls, nothing of what they carried', async () => {
  const result = await run(['token', '--force-refresh'], { TOKENCTL_DEBUG: '1' })
  expect(result.code).toBe(0)
  const token = result.stdout.trimEnd()
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines.every((line) => line.startsWith('tokenctl debug: '))).toBe(true)
  expect(lines).toEqual([
    expect.stringMatching(
      new RegExp(
        `^tokenctl debug: store: get dev in plain file ${credentials()}: a record with a refresh token and an access token \\(\\d+ ms\\)$`,
      ),
    ),
    expect.stringMatching(
      new RegExp(`^tokenctl debug: http: POST ${server.url}/auth/token/refresh → 200 \\(\\d+ ms, \\d+ bytes\\)$`),
    ),
    'tokenctl debug: session: dev: refreshed, with a new refresh token',
    expect.stringMatching(
      new RegExp(
        `^tokenctl debug: store: set dev in plain file ${credentials()}: saved a record with a refresh token and an access token \\(\\d+ ms\\)$`,
      ),
    ),
  ])
  const stored = JSON.parse(fs.readFileSync(credentials(), 'utf8')).envs.dev
  for (const secret of [token, stored.refreshToken, PASSWORD]) expect(result.stderr).not.toContain(secret)
})

test('a cache hit says where the token came from; without TOKENCTL_DEBUG there is not a word', async () => {
  // The fast path serves cache hits and has nothing to say; with debug on, the full path does.
  const debug = await run(['token'], { TOKENCTL_DEBUG: '1' })
  expect(debug.stderr).toMatch(/^tokenctl debug: session: dev: cached access token, \d+ s left$/m)
  for (const env of [{}, { TOKENCTL_FAST_PATH: '0' }] as Array<Record<string, string>>) {
    expect(await run(['token'], env)).toMatchObject({ code: 0, stderr: '' })
    expect(await run(['token', '--force-refresh'], env)).toMatchObject({ code: 0, stderr: '' })
  }
})

test('a wait for the lock is shown, and how long it lasted', async () => {
  const lock = path.join(sandbox.runtimeDir, 'tokenctl', 'locks', 'dev.lock')
  fs.mkdirSync(path.dirname(lock), { recursive: true, mode: 0o700 })
  // Held by a live process (this one) that lets go after a moment.
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, at: Date.now() }), { mode: 0o600 })
  const running = sandbox.start(['token', '--force-refresh'], { env: { TOKENCTL_STORE: 'file', TOKENCTL_DEBUG: '1' } })
  // Let go only once it is waiting: a timer would race a slow start on a busy machine.
  await running.waitForStderr(/lock: waiting for/)
  fs.rmSync(lock, { force: true })
  const result = await running.done
  expect(result.code).toBe(0)
  expect(result.stderr).toContain(`tokenctl debug: lock: waiting for ${lock} (held by pid ${process.pid})\n`)
  expect(result.stderr).toMatch(new RegExp(`tokenctl debug: lock: got ${lock} after \\d+ ms\n`))
})

test("oclif's own errors are redacted too: a secret typed where a flag value or a command goes", async () => {
  const env = { TOKENCTL_PASSWORD: PASSWORD }
  const badFlag = await run(['token', '-f', PASSWORD], env)
  expect(badFlag.code).toBe(2)
  expect(badFlag.stderr).toContain('Expected --format=*** to be one of')
  const badCommand = await run([PASSWORD], env)
  expect(badCommand.code).toBe(2)
  expect(badCommand.stderr).toContain('command *** not found')
  for (const result of [badFlag, badCommand]) expect(result.stderr).not.toContain(PASSWORD)
})

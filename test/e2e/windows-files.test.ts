/**
 * Renames and lock creation as Windows has them (docs/design.md#windows): the built CLI runs
 * under test/support/windows-fs.cjs, a preload that makes `fs` refuse with EPERM a rename
 * onto a file another process "holds open", and any open of a lock file "being deleted",
 * while a sentinel beside the path exists. tokenctl tries again for a bounded time: a hold
 * that ends is waited out, a longer one is exit 6 naming the path.
 */
import fs from 'node:fs'
import path from 'node:path'

import { ROOT } from '../support/cli.js'
import { useFileStoreFixture } from '../support/file-store-fixture.js'

const PRELOAD = path.join(ROOT, 'test', 'support', 'windows-fs.cjs')
const WINDOWS_FS = {
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${PRELOAD}`].filter(Boolean).join(' '),
}

const fixture = useFileStoreFixture()
const { serve, run } = fixture

const credentialsFile = () => path.join(fixture.sandbox.configDir, 'credentials.json')

function storedRefreshToken(): string | undefined {
  const data = JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as {
    envs: Record<string, { refreshToken?: string }>
  }
  return data.envs.dev?.refreshToken
}

async function loggedIn(): Promise<void> {
  const server = await serve()
  expect(await run(['env', 'add', 'dev', '--url', server.url])).toMatchObject({ code: 0 })
  expect(
    await run(['login', '-e', 'dev', '--username', 'alice', '--password-stdin'], {}, 'wonderland\n'),
  ).toMatchObject({ code: 0, stdout: '' })
}

/** Waits until the preload has refused a call because of `sentinel`, then holds `ms` more and ends the hold. */
async function endHoldAfterSeen(sentinel: string, ms: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!fs.existsSync(`${sentinel}.seen`)) {
    if (Date.now() > deadline) throw new Error(`the CLI never met ${sentinel}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await new Promise((resolve) => setTimeout(resolve, ms))
  fs.rmSync(sentinel)
}

test('a refresh whose store file is held open by another program for 300 ms succeeds once it is let go', async () => {
  await loggedIn()
  const before = storedRefreshToken()
  const held = `${credentialsFile()}.held`
  fs.writeFileSync(held, '')
  const [result] = await Promise.all([run(['refresh'], WINDOWS_FS), endHoldAfterSeen(held, 300)])
  expect(result).toMatchObject({ code: 0, stdout: '' })
  // Whole minutes, rounded down: a busy machine's second between issue and print makes it 29m.
  expect(result.stderr).toMatch(/^Refreshed dev: the access token expires in (?:29|30)m \([^)]+\)\.\n$/)
  // The new refresh token reached the file, and no temp file was left beside it.
  expect(storedRefreshToken()).toEqual(expect.any(String))
  expect(storedRefreshToken()).not.toBe(before)
  expect(fs.readdirSync(fixture.sandbox.configDir).filter((name) => name.endsWith('.tmp'))).toEqual([])
})

test('a login whose store file is held open for longer than tokenctl waits is exit 6 naming the file, and the old content stays', async () => {
  await loggedIn()
  const before = fs.readFileSync(credentialsFile(), 'utf8')
  fs.writeFileSync(`${credentialsFile()}.held`, '')
  const result = await run(
    ['login', '-e', 'dev', '--username', 'alice', '--password-stdin'],
    WINDOWS_FS,
    'wonderland\n',
  )
  expect(result).toMatchObject({
    code: 6,
    stdout: '',
    stderr: `Error: The file ${credentialsFile()} could not be replaced: another program kept it open (EPERM) for 2 s. Its previous content is intact.\nClose the program that has it open (an editor, a backup or virus scanner), then try again.\n`,
  })
  expect(fs.readFileSync(credentialsFile(), 'utf8')).toBe(before)
  expect(fs.readdirSync(fixture.sandbox.configDir).filter((name) => name.endsWith('.tmp'))).toEqual([])
})

test('a lock file still being deleted (EPERM on create) is tried again, and the login succeeds', async () => {
  await loggedIn()
  const before = storedRefreshToken()
  // The file store's lock, beside the credentials file: its previous holder is deleting it.
  const deleting = `${path.join(fixture.sandbox.configDir, 'credentials.lock')}.deleting`
  fs.writeFileSync(deleting, '')
  const [result] = await Promise.all([
    run(['login', '-e', 'dev', '--username', 'alice', '--password-stdin'], WINDOWS_FS, 'wonderland\n'),
    endHoldAfterSeen(deleting, 300),
  ])
  expect(result).toMatchObject({ code: 0, stdout: '' })
  expect(result.stderr).toMatch(/^Logged in to dev as alice\. /)
  expect(storedRefreshToken()).not.toBe(before)
})

test('a refresh whose store file stays held keeps the rotated refresh token in the rescue file and says where', async () => {
  await loggedIn()
  fs.writeFileSync(`${credentialsFile()}.held`, '')
  const result = await run(['refresh'], WINDOWS_FS)
  expect(result).toMatchObject({ code: 0, stdout: '' })
  expect(result.stderr).toContain(
    `Warning: Could not save the new tokens of "dev": The file ${credentialsFile()} could not be replaced: another program kept it open (EPERM) for 2 s.`,
  )
  expect(fs.existsSync(path.join(fixture.sandbox.runtimeDir, 'tokenctl', 'credentials.json'))).toBe(true)
})

test('a lock file that stays "being deleted" is exit 6 naming it after the bounded wait, not a hang', async () => {
  await loggedIn()
  const lock = path.join(fixture.sandbox.configDir, 'credentials.lock')
  fs.writeFileSync(`${lock}.deleting`, '')
  const result = await run(
    ['login', '-e', 'dev', '--username', 'alice', '--password-stdin'],
    WINDOWS_FS,
    'wonderland\n',
  )
  expect(result).toMatchObject({ code: 6, stdout: '' })
  expect(result.stderr).toContain(`the lock file ${lock} cannot be created (EPERM)`)
  expect(result.stderr).toContain('the previous content is intact')
  expect(result.stderr).not.toMatch(/^\s+at /m)
})

import fs from 'node:fs'
import path from 'node:path'

import { ROOT, runProcess } from '../support/cli.js'
import { ignorePattern, NEEDS, SUITES, suitesLeftOut } from '../support/platform-suites.js'

// jest.config.js leaves out, on macOS and Windows, the suites that need what only Linux (or a
// POSIX system) has. Checked here through jest itself (`--listTests`), as CI would run it.

/** Every test suite of the repository, relative to it, with /. */
function allSuites(dir = path.join(ROOT, 'test')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return allSuites(full)
    return entry.name.endsWith('.test.ts') ? [path.relative(ROOT, full).split(path.sep).join('/')] : []
  })
}

/** What `jest --listTests` lists, and its stderr, with the OS given to jest.config.js. */
async function listed(platform?: string): Promise<{ suites: string[]; stderr: string }> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  delete env.TOKENCTL_TEST_PLATFORM
  if (platform) env.TOKENCTL_TEST_PLATFORM = platform
  const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js')
  const result = await runProcess(process.execPath, ['--experimental-vm-modules', jest, '--listTests'], {
    env,
    cwd: ROOT,
    timeoutMs: 60_000,
  })
  expect(result.code).toBe(0)
  const suites = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((file) => path.relative(ROOT, file).split(path.sep).join('/'))
  return { suites: suites.sort(), stderr: result.stderr }
}

test('every suite named exists and every need it names is known', () => {
  const suites = allSuites()
  for (const [suite, needs] of Object.entries(SUITES)) {
    expect(suites).toContain(suite)
    for (const need of needs) expect(Object.keys(NEEDS)).toContain(need)
  }
})

test('on Linux every suite runs, and nothing is said of suites left out', async () => {
  expect(suitesLeftOut('linux')).toEqual([])
  const { suites, stderr } = await listed('linux')
  expect(suites).toEqual(allSuites().sort())
  expect(stderr).not.toContain('NOT RUN')
}, 60_000)

test('on Windows the named suites are left out, and the run says which and why', async () => {
  const { suites, stderr } = await listed('win32')
  const named = Object.keys(SUITES)
  expect(suites).toEqual(
    allSuites()
      .filter((suite) => !named.includes(suite))
      .sort(),
  )
  expect(stderr).toContain(`NOT RUN on win32: ${named.length} test suites`)
  expect(stderr).toContain('test/e2e/exec.test.ts: needs pty, proc, posix-shell, posix-signals')
  expect(stderr).toContain(`posix-modes: ${NEEDS['posix-modes']!.why}`)
}, 60_000)

test('on macOS only the suites that need Linux itself are left out', async () => {
  const { suites } = await listed('darwin')
  const linuxOnly = suitesLeftOut('darwin').map(({ suite }) => suite)
  expect(linuxOnly).toEqual(expect.arrayContaining(['test/e2e/keychain.test.ts', 'test/e2e/leak.test.ts']))
  expect(linuxOnly).not.toContain('test/e2e/audit.test.ts')
  expect(suites).toEqual(
    allSuites()
      .filter((suite) => !linuxOnly.includes(suite))
      .sort(),
  )
}, 60_000)

test('a pattern matches its suite with either separator, and no other suite', () => {
  const pattern = new RegExp(ignorePattern('test/e2e/keychain.test.ts'))
  expect(pattern.test('/home/ci/tokenctl/test/e2e/keychain.test.ts')).toBe(true)
  expect(pattern.test('D:\\a\\tokenctl\\test\\e2e\\keychain.test.ts')).toBe(true)
  expect(pattern.test('/home/ci/tokenctl/test/e2e/keychain-lifecycle.test.ts')).toBe(false)
  expect(pattern.test('/home/ci/tokenctl/test/e2e/keychainXtest.ts')).toBe(false)
  expect(pattern.test('/home/ci/tokenctl/other-test/e2e/keychain.test.ts')).toBe(false)
})

import fs from 'node:fs'
import path from 'node:path'

import { ROOT, runCli, runProcess, Sandbox } from '../support/cli.js'

// bin/dev.js runs the TypeScript sources with no build. It is run here in a copy of the
// package that has no dist/ at all, so that a dev.js quietly falling back to dist/ fails.
let sandbox: Sandbox
let copy: string

beforeAll(() => {
  sandbox = new Sandbox()
  copy = path.join(sandbox.dir, 'package')
  fs.mkdirSync(copy)
  for (const entry of ['package.json', 'tsconfig.json', 'oclif.manifest.json', 'bin', 'src']) {
    fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true })
  }
  // A junction on Windows needs no admin rights; elsewhere the type is ignored.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'junction')
})
afterAll(() => sandbox.cleanup())

/** Runs the copy's bin/dev.js with the Node flags of its own #! line (not every OS reads `env -S`). */
function dev(args: string[]) {
  const script = path.join(copy, 'bin', 'dev.js')
  const shebang = fs.readFileSync(script, 'utf8').split('\n')[0]!
  const flags = /^#!\/usr\/bin\/env -S node (.*)$/.exec(shebang)![1]!.split(' ')
  return runProcess(process.execPath, [...flags, script, ...args], {
    env: sandbox.env({ TOKENCTL_STORE: 'file' }),
    cwd: copy,
    timeoutMs: 60_000,
  })
}

test('bin/dev.js runs the commands from src/, with the help the built CLI prints', async () => {
  expect(fs.existsSync(path.join(copy, 'dist'))).toBe(false)

  const help = await dev(['token', '--help'])
  expect(help.stderr).toBe('')
  expect(help.code).toBe(0)
  const built = await runCli(['token', '--help'], { env: sandbox.env() })
  expect(help.stdout).toBe(built.stdout)

  const added = await dev(['env', 'add', 'dev1', '--url', 'https://example.test'])
  expect(added.stderr).toBe('Added env "dev1" (current).\nNext: tokenctl login -e dev1\n')
  expect(added.code).toBe(0)
  expect(JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8'))).toMatchObject({
    current: 'dev1',
  })

  const listed = await dev(['env', 'list'])
  expect(listed.stderr).toBe('')
  expect(listed.code).toBe(0)
  expect(listed.stdout).toMatch(/^\* +dev1 +api +https:\/\/example\.test /m)
}, 120_000)

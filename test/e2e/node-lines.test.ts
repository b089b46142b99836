import net from 'node:net'
import type { AddressInfo } from 'node:net'

import { Sandbox } from '../support/cli.js'

let sandbox: Sandbox
beforeEach(() => {
  sandbox = new Sandbox()
})
afterEach(() => sandbox.cleanup())

// Each test runs the CLI under the Node that runs jest: CI runs this suite on every line.

// jest sets NODE_ENV=test, and many developer shells set development. On the Node lines that
// can run TypeScript (22 and later) oclif then went looking for tokenctl's sources and warned
// on stderr that it found none.
describe.each([['development'], ['test'], ['production'], [undefined]])(
  `Node ${process.version}, NODE_ENV=%s: the full path`,
  (nodeEnv) => {
    const env = { NODE_ENV: nodeEnv, TOKENCTL_FAST_PATH: '0', TOKENCTL_STORE: 'file' }

    test('prints only its own words on stderr, and nothing for a quiet command', async () => {
      const added = await sandbox.run(['env', 'add', 'dev', '--url', 'http://127.0.0.1:1'], { env })
      expect(added).toMatchObject({ code: 0, stdout: '' })
      expect(added.stderr).toBe('Added env "dev" (current).\nNext: tokenctl login -e dev\n')

      const listed = await sandbox.run(['env', 'list'], { env })
      expect(listed).toMatchObject({ code: 0, stderr: '' })
      expect(listed.stdout).toContain('dev')
    })
  },
)

// On Node 24.20+ and 26.7+ the HTTP library's own retry lost the error's code after one attempt.
test(`Node ${process.version}: a refused connection is exit 5 naming ECONNREFUSED`, async () => {
  const socket = net.createServer()
  await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  await new Promise((resolve) => socket.close(resolve))
  const env = { TOKENCTL_STORE: 'file' }
  expect((await sandbox.run(['env', 'add', 'down', '--url', `http://127.0.0.1:${port}`], { env })).code).toBe(0)

  const result = await sandbox.run(['login', '-e', 'down', '--username', 'alice', '--password-stdin'], {
    env,
    input: 'not-sent\n',
  })
  expect(result).toMatchObject({ code: 5, stdout: '' })
  expect(result.stderr).toBe(
    `Error: Could not reach 127.0.0.1:${port} (ECONNREFUSED).\n` +
      'Check the URL, your network and any proxy settings, then try again.\n',
  )
})

import { Sandbox } from '../support/cli.js'

let sandbox: Sandbox
beforeEach(() => {
  sandbox = new Sandbox()
})
afterEach(() => sandbox.cleanup())

// jest sets NODE_ENV=test, and many developer shells set development. On the Node lines that
// can run TypeScript (22 and later) oclif then went looking for tokenctl's sources and warned
// on stderr that it found none. The CLI runs under the Node that runs this test, so CI
// running the suite on each line is what makes this meaningful.
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

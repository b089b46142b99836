import fs from 'node:fs'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { Sandbox } from '../support/cli.js'
import { startHangingBus } from '../support/keyring.js'
import { inTerminal } from '../support/terminal.js'

// A person at a terminal: util-linux `script` gives tokenctl a real pty, and the test types.
let server: ApiServer
let sandbox: Sandbox
beforeEach(async () => {
  server = await startApiServer()
  sandbox = new Sandbox()
  await sandbox.run(['env', 'add', 'prod', '--url', server.url])
})
afterEach(async () => {
  await server.close()
  sandbox.cleanup()
})

test('login prompts for the user name and password on a terminal, and the password is not echoed', async () => {
  const terminal = inTerminal(['login', '-e', 'prod', '--store', 'file'], sandbox.env())
  try {
    await terminal.waitFor('User name for prod')
    terminal.type('alice\r')
    await terminal.waitFor('Password for alice')
    terminal.type('wonderland\r')
    expect(await terminal.exited).toBe(0)
  } finally {
    terminal.kill()
  }
  expect(terminal.screen()).toContain('Logged in to prod as alice.')
  expect(terminal.screen()).not.toContain('wonderland')
  expect(server.count('/auth/token')).toBe(1)
  const stored = JSON.parse(fs.readFileSync(`${sandbox.configDir}/credentials.json`, 'utf8'))
  expect(stored.envs.prod).toMatchObject({ user: 'alice', refreshToken: expect.any(String) })
})

test('--no-input on a terminal still asks nothing: exit 3 with the way out', async () => {
  const terminal = inTerminal(['login', '-e', 'prod', '--store', 'file', '--no-input'], sandbox.env())
  const code = await terminal.exited
  expect(code).toBe(3)
  expect(terminal.screen()).toContain('--password-stdin')
  expect(server.count('/auth/token')).toBe(0)
})

test.each([
  [
    'no keychain (no bus at the address)',
    async () => ({ address: 'unix:path=/nonexistent/tokenctl-test-bus', stop: async () => {} }),
  ],
  ['a keychain that hangs', startHangingBus],
])('with %s, login on a terminal exits 6 before it asks anything', async (_name, start) => {
  // A person must never type a password that cannot be kept: the store is checked first.
  const bus = await start()
  try {
    const terminal = inTerminal(['login', '-e', 'prod'], sandbox.env({ DBUS_SESSION_BUS_ADDRESS: bus.address }))
    let code: number | null | undefined
    void terminal.exited.then((exitCode) => (code = exitCode))
    try {
      // Were it to ask, it gets answers, so that it ends and the test says what went wrong.
      const answers: Array<[string, string]> = [
        ['User name for prod', 'alice\r'],
        ['Password for alice', 'wonderland\r'],
      ]
      for (let i = 0; i < 600 && code === undefined; i++) {
        if (answers[0] && terminal.screen().includes(answers[0][0])) terminal.type(answers.shift()![1])
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      terminal.kill()
    }
    expect(code).toBe(6)
    expect(terminal.screen()).toContain('--store file')
    expect(terminal.screen()).not.toMatch(/User name|Password/)
    expect(server.requests).toHaveLength(0)
  } finally {
    await bus.stop()
  }
})

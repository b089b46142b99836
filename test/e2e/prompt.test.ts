import { spawn } from 'node:child_process'
import fs from 'node:fs'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, Sandbox } from '../support/cli.js'

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

function inTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const waitFor = async (text: string) => {
    for (let i = 0; i < 200 && !screen.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    if (!screen.includes(text)) throw new Error(`never saw ${JSON.stringify(text)} in ${JSON.stringify(screen)}`)
  }
  return { type: (text: string) => child.stdin.write(text), waitFor, exited, screen: () => screen, kill: () => child.kill('SIGKILL') }
}

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

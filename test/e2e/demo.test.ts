import { spawn } from 'node:child_process'
import path from 'node:path'

import { cleanEnv, ROOT } from '../support/cli.js'

// `npm run demo` = compile + this script; the test command has compiled already.
test('the demo walks the whole lifecycle without a prompt (stdin closed, CI=true around it)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts')], {
    cwd: ROOT,
    env: cleanEnv({ CI: 'true' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  expect({ code, output }).toEqual({ code: 0, output: expect.any(String) })
  for (const command of [
    'env add demo',
    'login --password-stdin',
    'token',
    'status',
    'inspect',
    'refresh',
    'token -f json',
    'revoke',
    'audit',
  ]) {
    expect(output).toContain(`$ ${command.startsWith('login') ? "printf %s '********' | " : ''}tokenctl ${command}`)
  }
  expect(output).toContain("the server's /api/me says: HTTP 200")
  expect(output).toContain('Revoked and deleted the tokens of demo.')
  expect(output).toContain(
    'Requests the server saw: POST /auth/token, GET /api/me, POST /auth/token/refresh, POST /auth/token/revoke',
  )
  expect(output).toMatch(/claims:\n +sub: +alice/)
  expect(output).toMatch(/login +ok .*\n.*refresh +ok .*\n.*revoke +ok/)
  expect(output).not.toContain('wonderland')
}, 60_000)

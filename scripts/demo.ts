/**
 * `npm run demo`: the whole token lifecycle against the test suite's local `api` server,
 * in a throwaway config dir with the file store, so the user's keychain and config are
 * never touched.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startApiServer } from '../test/support/api-server.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin', 'run.js')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-demo-'))
const server = await startApiServer({ users: { alice: 'wonderland' } })

const environ: Record<string, string> = {}
for (const [key, value] of Object.entries(process.env)) {
  if (value !== undefined && !/^(CI|TOKENCTL_.*|XDG_.*)$/.test(key)) environ[key] = value
}
Object.assign(environ, {
  TOKENCTL_CONFIG_DIR: path.join(work, 'config'),
  TOKENCTL_STORE: 'file',
  XDG_RUNTIME_DIR: path.join(work, 'run'),
  XDG_STATE_HOME: path.join(work, 'state'),
})
fs.mkdirSync(environ.XDG_RUNTIME_DIR!, { mode: 0o700 })

const bold = (text: string) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text)
let failed = false

/** The server runs in this process, so the CLI must run asynchronously beside it. */
function run(args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: environ })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
    child.stdin.end(input)
  })
}

const indent = (text: string) => text.replace(/\n$/, '').replace(/^/gm, '  ') + '\n'

async function step(
  title: string,
  args: string[],
  { input, expect = 0 }: { input?: string; expect?: number } = {},
): Promise<string> {
  console.log(`\n${bold(`# ${title}`)}`)
  console.log(`$ ${input === undefined ? '' : "printf %s '********' | "}tokenctl ${args.join(' ')}`)
  const result = await run(args, input ?? '')
  if (result.stdout) process.stdout.write(indent(result.stdout))
  if (result.stderr) process.stdout.write(indent(result.stderr))
  if (result.status !== 0) console.log(`  (exit ${result.status})`)
  if (result.status !== expect) failed = true
  return result.stdout
}

try {
  console.log(`Local auth server on ${server.url} (user alice); config in ${work}`)
  await step('Add an env for the local server and make it current', [
    'env',
    'add',
    'demo',
    '--url',
    server.url,
    '--username',
    'alice',
    '--use',
  ])
  await step('Log in: the password comes from stdin, never argv', ['login', '--password-stdin'], {
    input: 'wonderland',
  })
  const token = await step('Get a token: exactly the token and a newline on stdout', ['token'])
  const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token.trim()}` } })
  console.log(`  → the server's /api/me says: HTTP ${me.status} ${await me.text()}`)
  await step('Status: who, until when, where the secrets are', ['status'])
  await step('Inspect: what the token says about itself (never the token)', ['inspect'])
  await step('Refresh now (the server rotates the refresh token)', ['refresh'])
  await step('A token again: the new one, from the cache, no request', ['token', '-f', 'json'])
  await step('Revoke: the server forgets the refresh token, and so does the store', ['revoke'])
  await step('Status after revoke: a login is needed (exit 3)', ['status'], { expect: 3 })
  await step('The audit log: every login, refresh and revoke, never a secret', ['audit'])
  console.log(
    `\nRequests the server saw: ${server.requests.map((request) => `${request.method} ${request.path}`).join(', ')}`,
  )
} finally {
  await server.close()
  fs.rmSync(work, { recursive: true, force: true })
}
if (failed) {
  console.log('\nThe demo did not go as planned (see the exit codes above).')
  process.exitCode = 1
}

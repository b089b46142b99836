/**
 * The programs tokenctl starts for itself get none of the variables that buy tokens
 * (docs/design.md#secrets-never-leak): git, which status asks for its credential helpers,
 * is handed the session's environment without TOKENCTL_PASSWORD, client secrets or refresh
 * tokens. A stand-in `git` first on PATH writes down the environment it was given.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Sandbox } from '../support/cli.js'

let sandbox: Sandbox

beforeEach(() => {
  sandbox = new Sandbox()
})
afterEach(() => sandbox.cleanup())

test("status's git call gets no password, client secret or refresh token from the variables", async () => {
  const bin = path.join(sandbox.dir, 'bin')
  const dump = path.join(sandbox.dir, 'git-environ')
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(bin, 'git'), `#!/bin/sh\nenv > '${dump}'\nexit 1\n`, { mode: 0o755 })
  const secrets = {
    TOKENCTL_PASSWORD: 'pw-for-git-Zq81',
    TOKENCTL_PROD_CLIENT_SECRET: 'cs-for-git-Lm42',
    TOKENCTL_REFRESH_TOKEN: 'rt-for-git-Wx93',
  }
  const path_ = `${bin}${path.delimiter}${process.env.PATH ?? ''}`
  expect((await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])).code).toBe(0)
  const status = await sandbox.run(['status', '-e', 'prod'], {
    env: { ...secrets, PATH: path_, TOKENCTL_STORE: 'file' },
  })
  expect(status.stdout).toContain('prod')
  const given = fs.readFileSync(dump, 'utf8')
  expect(given).toContain(`PATH=${path_}\n`)
  for (const [name, value] of Object.entries(secrets)) {
    expect(given).not.toContain(name)
    expect(given).not.toContain(value)
  }
})

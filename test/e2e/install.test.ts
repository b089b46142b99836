import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ROOT, runCli, runProcess, Sandbox } from '../support/cli.js'

// Installed the way users install it: npm pack, then npm install -g into a throwaway prefix.
let work: string
let prefix: string
let files: string[]
let sandbox: Sandbox

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-install-'))
  prefix = path.join(work, 'prefix')
  // dist/ and the manifest are already built by the test command; --ignore-scripts keeps
  // `prepack` from rewriting the manifest under test.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  files = packed[0].files.map((file: { path: string }) => file.path)
  const tarball = path.join(work, packed[0].filename)
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  sandbox = new Sandbox()
}, 240_000)

afterAll(() => {
  sandbox?.cleanup()
  fs.rmSync(work, { recursive: true, force: true })
})

test('the package holds bin/, dist/ and the manifest, and no src/ or test/', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'bin/run.js',
      'bin/docker-credential-tokenctl.js',
      'bin/terraform-credentials-tokenctl.js',
      'dist/commands/env/list.js',
      'dist/stores/keychain-agent.js',
      'oclif.manifest.json',
      'package.json',
      'README.md',
    ]),
  )
  expect(files.filter((file) => /^(src|test)\//.test(file))).toEqual([])
  expect(files).not.toContain('bin/dev.js')
})

describe('the installed tokenctl, from the prefix PATH', () => {
  const tokenctl = (args: string[]) => {
    const bin = path.join(prefix, 'bin', 'tokenctl')
    return runCli(args, {
      env: sandbox.env({ PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`, TOKENCTL_STORE: 'file' }),
      bin: fs.realpathSync(bin),
    })
  }

  test('--version', async () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
    const result = await tokenctl(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^tokenctl/${version.replace(/\./g, '\\.')} `))
  })

  test('--help lists the env topic', async () => {
    const result = await tokenctl(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('env')
    expect(result.stdout).toContain('USAGE')
  })

  test('env add, then env list', async () => {
    expect((await tokenctl(['env', 'add', 'prod', '--url', 'https://api.example.com'])).code).toBe(0)
    const result = await tokenctl(['env', 'list', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual([
      { name: 'prod', current: true, protocol: 'api', url: 'https://api.example.com', user: null, loggedIn: false },
    ])
  })

  test('the installed bin is the one on PATH', () => {
    const found = execFileSync('sh', ['-c', 'command -v tokenctl'], {
      env: { PATH: `${path.join(prefix, 'bin')}:/usr/bin:/bin` },
      encoding: 'utf8',
    }).trim()
    expect(found).toBe(path.join(prefix, 'bin', 'tokenctl'))
  })

  test("docker's and terraform's helpers are installed beside it and run as those programs run them", async () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
    // As docker and terraform start them: by name, through their #!, with this Node on PATH.
    const env = sandbox.env({
      PATH: [path.join(prefix, 'bin'), path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      TOKENCTL_STORE: 'file',
    })
    const docker = await runProcess(path.join(prefix, 'bin', 'docker-credential-tokenctl'), ['version'], { env })
    expect(docker).toMatchObject({ code: 0, stdout: `docker-credential-tokenctl (tokenctl) ${version}\n` })
    const terraform = await runProcess(
      path.join(prefix, 'bin', 'terraform-credentials-tokenctl'),
      ['get', 'nobody.example.com'],
      { env },
    )
    expect(terraform).toMatchObject({ code: 0, stdout: '{}\n', stderr: '' })
  })
})

/**
 * setup-docker on real files (docs/design.md#setup-docker): docker's config.json gets credHelpers
 * entries for the env's hosts and keeps everything else byte for byte; DOCKER_CONFIG, modes,
 * idempotence, --unset, a file that is not a JSON object, and the PATH check.
 */
import fs from 'node:fs'
import path from 'node:path'

import { ROOT, type RunResult, Sandbox } from '../support/cli.js'

const store = { TOKENCTL_STORE: 'file' }
/** docker's own format: tab-indented, keys in the order docker wrote them. */
const ORIGINAL =
  '{\n\t"auths": {\n\t\t"ghcr.io": {}\n\t},\n\t"credsStore": "desktop",\n\t"psFormat": "table {{.ID}}"\n}\n'
const WITH_OURS =
  '{\n\t"auths": {\n\t\t"ghcr.io": {}\n\t},\n\t"credsStore": "desktop",\n\t"psFormat": "table {{.ID}}",\n\t"credHelpers": {\n\t\t"api.example.com": "tokenctl",\n\t\t"registry.example.com:5000": "tokenctl"\n\t}\n}\n'

let sandbox: Sandbox
/** A PATH with Node on it and no docker-credential-tokenctl. */
const PATH = path.dirname(process.execPath)

beforeEach(async () => {
  sandbox = new Sandbox()
  const added = await sandbox.run(
    ['env', 'add', 'prod', '--url', 'https://api.example.com', '--host', 'registry.example.com:5000'],
    { env: store },
  )
  expect(added).toMatchObject({ code: 0 })
})

afterEach(() => sandbox.cleanup())

const setup = (args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> =>
  sandbox.run(['setup-docker', '-e', 'prod', ...args], { env: { ...store, PATH, ...env } })

const defaultFile = () => path.join(sandbox.home, '.docker', 'config.json')

function writeConfig(file: string, text: string, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text, { mode })
  fs.chmodSync(file, mode)
}

test('adds the entries, keeps every other key and its place; the mode is kept', async () => {
  writeConfig(defaultFile(), ORIGINAL, 0o640)
  const result = await setup()
  expect(result).toMatchObject({ code: 0, stdout: '' })
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(WITH_OURS)
  expect(fs.statSync(defaultFile()).mode & 0o777).toBe(0o640)
  expect(result.stderr).toContain(`${defaultFile()}: credHelpers "api.example.com": "tokenctl"`)
})

test('twice changes nothing (the file is not even rewritten); --unset gives back the original bytes', async () => {
  writeConfig(defaultFile(), ORIGINAL)
  await setup()
  const inode = fs.statSync(defaultFile()).ino
  const again = await setup()
  expect(again).toMatchObject({ code: 0, stdout: '' })
  expect(again.stderr).toContain(`${defaultFile()}: nothing to change.`)
  expect(fs.statSync(defaultFile()).ino).toBe(inode)
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(WITH_OURS)

  const unset = await setup(['--unset'])
  expect(unset).toMatchObject({ code: 0, stdout: '' })
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(ORIGINAL)
})

test("--unset leaves other helpers' entries", async () => {
  writeConfig(
    defaultFile(),
    '{\n  "credHelpers": {\n    "gcr.io": "gcloud",\n    "api.example.com": "tokenctl"\n  }\n}\n',
  )
  expect(await setup(['--unset'])).toMatchObject({ code: 0 })
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe('{\n  "credHelpers": {\n    "gcr.io": "gcloud"\n  }\n}\n')
})

test('numbers and layout outside credHelpers are kept byte for byte: big integers, 1.0, a compact object', async () => {
  const text =
    '{\n\t"n": 12345678901234567890,\n\t"f": 1.0,\n\t"proxies": {"default": {"httpProxy": "http://p:3128"}}\n}\n'
  writeConfig(defaultFile(), text)
  expect(await setup()).toMatchObject({ code: 0 })
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(
    '{\n\t"n": 12345678901234567890,\n\t"f": 1.0,\n\t"proxies": {"default": {"httpProxy": "http://p:3128"}},\n\t"credHelpers": {\n\t\t"api.example.com": "tokenctl",\n\t\t"registry.example.com:5000": "tokenctl"\n\t}\n}\n',
  )
  expect(await setup(['--unset'])).toMatchObject({ code: 0 })
  expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(text)
})

test('DOCKER_CONFIG names the directory; a new file is 0600 in a 0700 dir; --json says what it did', async () => {
  const dir = path.join(sandbox.dir, 'docker-ci')
  const result = await setup(['--json'], { DOCKER_CONFIG: dir })
  expect(result).toMatchObject({ code: 0 })
  const file = path.join(dir, 'config.json')
  expect(JSON.parse(result.stdout)).toEqual({
    dockerConfig: file,
    env: 'prod',
    hosts: ['api.example.com', 'registry.example.com:5000'],
    changed: true,
    helperOnPath: null,
  })
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
    credHelpers: { 'api.example.com': 'tokenctl', 'registry.example.com:5000': 'tokenctl' },
  })
  expect(fs.statSync(file).mode & 0o777).toBe(0o600)
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
  expect(fs.existsSync(defaultFile())).toBe(false)
})

test.each([['[1]\n'], ['{"auths": \n'], ['{"credHelpers": "tokenctl"}\n']])(
  'a config that is not what docker reads (%j): exit 2 with the fix, the file untouched',
  async (text) => {
    writeConfig(defaultFile(), text)
    const result = await setup()
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toMatch(/Error: .*config/)
    expect(result.stderr).toMatch(/DOCKER_CONFIG|Make it an object/)
    expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(text)
  },
)

test('the helper not on PATH: a warning with the link to make; on PATH: no warning', async () => {
  const missing = await setup()
  const script = path.join(ROOT, 'bin', 'docker-credential-tokenctl.js')
  expect(missing.stderr).toContain('Warning: docker-credential-tokenctl is not on PATH, so docker cannot run it.')
  expect(missing.stderr).toContain(`ln -s '${script}' ~/.local/bin/docker-credential-tokenctl`)

  const bin = path.join(sandbox.dir, 'bin')
  fs.mkdirSync(bin)
  fs.symlinkSync(script, path.join(bin, 'docker-credential-tokenctl'))
  const found = await setup([], { PATH: `${bin}${path.delimiter}${PATH}` })
  expect(found).toMatchObject({ code: 0 })
  expect(found.stderr).not.toContain('Warning')
  expect(found.stderr).toContain('docker now asks tokenctl (env prod) for: api.example.com, registry.example.com:5000.')
})

describe("another helper's entry for one of the env's hosts", () => {
  const THEIRS = '{\n\t"credHelpers": {\n\t\t"registry.example.com:5000": "ecr-login"\n\t}\n}\n'

  test('refused without --force: exit 2, the fix names --force, nothing written', async () => {
    writeConfig(defaultFile(), THEIRS)
    const result = await setup()
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain(
      `${defaultFile()} already names another credential helper: "registry.example.com:5000": "ecr-login".`,
    )
    expect(result.stderr).toContain('--force')
    expect(fs.readFileSync(defaultFile(), 'utf8')).toBe(THEIRS)
  })

  test("--force replaces it and says the entry that gives it back; --unset then removes only tokenctl's", async () => {
    writeConfig(defaultFile(), THEIRS)
    const forced = await setup(['--force'])
    expect(forced).toMatchObject({ code: 0 })
    expect(forced.stderr).toContain(
      `Warning: registry.example.com:5000 used another credential helper; it now uses tokenctl. To give it back, set "registry.example.com:5000": "ecr-login" in credHelpers of ${defaultFile()}.`,
    )
    expect(JSON.parse(fs.readFileSync(defaultFile(), 'utf8'))).toEqual({
      credHelpers: { 'registry.example.com:5000': 'tokenctl', 'api.example.com': 'tokenctl' },
    })
    expect(await setup(['--unset'])).toMatchObject({ code: 0 })
    expect(fs.readFileSync(defaultFile(), 'utf8')).toBe('{}\n')
  })
})

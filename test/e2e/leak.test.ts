/**
 * No secret leaks (docs/design.md#secrets-never-leak). Every command of the CLI — taken from
 * oclif.manifest.json, so commands added later are run too — and every failure mode of
 * the test server, with and without TOKENCTL_DEBUG=1, with credential variables set. Collected:
 * stdout (but that of the commands whose job is to print a token), stderr, every file of
 * the sandbox (config, state — where the audit log lives —, runtime dir, HOME) but the
 * store and the caches docs/design.md#where-things-are-kept allows, and the argv of exec's child and of tokenctl itself
 * as the child sees them in /proc. None may hold the password, a client secret, or any
 * access or refresh token the server ever sent.
 */
import fs from 'node:fs'
import path from 'node:path'

import { type ApiServer, FAILURE_MODES, startApiServer } from '../support/api-server.js'
import { ROOT, type RunResult, Sandbox } from '../support/cli.js'
import {
  POST_CLIENT_ID,
  POST_CLIENT_SECRET,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  startOidcServer,
} from '../support/oidc-server.js'

const PASSWORD = 'leak-test-Pa55word'
const CLIENT_SECRET = 'leak-test-client-secret-9f8e'
const ENV = 'dev'

interface Manifest {
  commands: Record<
    string,
    { id: string; flags: Record<string, { type: string }>; args: Record<string, { required?: boolean }> }
  >
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest

/** Commands whose stdout is a token by design: their stdout is not searched. */
const PRINTS_A_TOKEN = new Set([
  'token',
  'git-credential',
  'kube-credential',
  'docker-credential',
  'terraform-credential',
])

/** Everything one sandbox's runs produced, to be searched. */
interface Evidence {
  what: string
  text: string
}

/** One tokenctl run to make, and how. */
interface Step {
  args: string[]
  input?: string
  env?: Record<string, string | undefined>
}

/** How to run the commands that need more than their name; others get a generic invocation. */
function stepsFor(id: string, server: ApiServer, sandbox: Sandbox): Step[] {
  const host = new URL(server.url).host
  const childOut = path.join(sandbox.dir, 'exec-child')
  switch (id) {
    case 'env:add':
      return [{ args: ['env', 'add', 'extra', '--url', server.url, '--username', 'alice'] }]
    case 'env:use':
      return [{ args: ['env', 'use', ENV] }]
    case 'env:show':
      return [{ args: ['env', 'show'] }, { args: ['env', 'show', ENV, '--json'] }]
    case 'env:list':
      return [{ args: ['env', 'list'] }, { args: ['env', 'list', '--json'] }, { args: ['env', 'list', '--names'] }]
    case 'env:remove':
      return [{ args: ['env', 'remove', 'extra'] }]
    case 'login':
      // The interactive prompts need a TTY (test/e2e/prompt.test.ts has them); these do not.
      return [
        { args: ['login', '--username', 'alice', '--password-stdin'], input: `${PASSWORD}\n` },
        { args: ['login', '--no-input'], env: { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD } },
      ]
    case 'token':
      return [
        { args: ['token'] },
        { args: ['token', '--force-refresh', '-f', 'json'] },
        { args: ['token', '-f', 'env'] },
      ]
    case 'refresh':
      return [{ args: ['refresh'] }]
    case 'git-credential':
      return [
        { args: ['git-credential', 'get'], input: `protocol=http\nhost=${host}\n\n` },
        { args: ['git-credential', 'erase'], input: `protocol=http\nhost=${host}\n\n` },
        {
          args: ['git-credential', 'store'],
          input: `protocol=http\nhost=${host}\nusername=alice\npassword=whatever\n\n`,
        },
      ]
    case 'exec':
      return [{ args: ['exec', '--', process.execPath, '-e', childScript(childOut), 'arg-one'] }]
    case 'setup-git':
      return [{ args: ['setup-git', '--host', 'git.example.com'] }, { args: ['setup-git', '--unset'] }]
    case 'kube-credential':
      return [
        {
          args: ['kube-credential'],
          env: { KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}' },
        },
        { args: ['kube-credential', '--min-ttl', '1h'] },
      ]
    case 'setup-kube':
      // The kubeconfig it writes (~/.kube/config in the sandbox) is searched like every file.
      return [{ args: ['setup-kube'] }, { args: ['setup-kube', '--unset', '--json'] }]
    case 'docker-credential':
      return [
        { args: ['docker-credential', 'get'], input: `${host}\n` },
        { args: ['docker-credential', 'list'] },
        { args: ['docker-credential', 'erase'], input: `https://${host}/v2/\n` },
        {
          args: ['docker-credential', 'store'],
          input: JSON.stringify({ ServerURL: host, Username: 'alice', Secret: PASSWORD }),
        },
      ]
    case 'setup-docker':
      // docker's config.json it writes (~/.docker/config.json in the sandbox) is searched like every file.
      return [{ args: ['setup-docker'] }, { args: ['setup-docker', '--unset', '--json'] }]
    case 'terraform-credential':
      return [
        { args: ['terraform-credential', 'get', host] },
        { args: ['terraform-credential', 'forget', host] },
        { args: ['terraform-credential', 'store', host], input: JSON.stringify({ token: PASSWORD }) },
      ]
    case 'status':
      return [{ args: ['status'] }, { args: ['status', '--json'] }, { args: ['status', '--all'] }]
    case 'revoke':
      return [{ args: ['revoke'] }]
    default:
      return genericSteps(id)
  }
}

/** A command this file does not know yet: its words, its required arguments, and --json/--all if it has them. */
function genericSteps(id: string): Step[] {
  const command = manifest.commands[id]!
  const args = [
    ...id.split(':'),
    ...Object.values(command.args ?? {})
      .filter((arg) => arg.required)
      .map(() => ENV),
  ]
  const steps: Step[] = [{ args }]
  for (const flag of ['json', 'all'])
    if (command.flags[flag]?.type === 'boolean') steps.push({ args: [...args, `--${flag}`] })
  return steps
}

/** exec's child writes its own argv and its parent's (tokenctl's) as /proc shows them. */
function childScript(out: string): string {
  return `const fs = require('fs'); const read = (p) => { try { return fs.readFileSync(p, 'utf8').split('\\0').join(' ') } catch { return '' } };
fs.appendFileSync(${JSON.stringify(out)}, JSON.stringify({ argv: process.argv, self: read('/proc/self/cmdline'), parent: read('/proc/' + process.ppid + '/cmdline') }) + '\\n')`
}

/** The order a person would go in: set up, log in, use, then everything the file does not know, then tear down. */
const ORDER = [
  'env:add',
  'env:use',
  'env:list',
  'env:show',
  'login',
  'status',
  'token',
  'refresh',
  'git-credential',
  'exec',
  'setup-git',
  'kube-credential',
  'setup-kube',
  'docker-credential',
  'setup-docker',
  'terraform-credential',
]
const LAST = ['env:remove', 'revoke']

function allSteps(server: ApiServer, sandbox: Sandbox): Array<Step & { id: string }> {
  const ids = Object.keys(manifest.commands)
  const middle = ids.filter((id) => !ORDER.includes(id) && !LAST.includes(id)).sort()
  return [...ORDER, ...middle, ...LAST]
    .filter((id) => ids.includes(id))
    .flatMap((id) => stepsFor(id, server, sandbox).map((step) => ({ ...step, id })))
}

/** The files docs/design.md#where-things-are-kept lets hold secrets: the chosen store and the caches. */
function allowedFiles(sandbox: Sandbox): string[] {
  const access = path.join(sandbox.runtimeDir, 'tokenctl', 'access')
  const caches = fs.existsSync(access) ? fs.readdirSync(access).map((name) => path.join(access, name)) : []
  return [
    path.join(sandbox.configDir, 'credentials.json'),
    path.join(sandbox.runtimeDir, 'tokenctl', 'credentials.json'),
    ...caches,
  ]
}

function collectFiles(sandbox: Sandbox, evidence: Evidence[]): void {
  const allowed = new Set(allowedFiles(sandbox))
  for (const file of sandbox.files()) {
    if (!allowed.has(file))
      evidence.push({ what: `file ${path.relative(sandbox.dir, file)}`, text: fs.readFileSync(file, 'latin1') })
  }
}

async function runStep(
  sandbox: Sandbox,
  step: Step & { id: string },
  env: Record<string, string | undefined>,
  evidence: Evidence[],
): Promise<RunResult> {
  const result = await sandbox.run(step.args, { env: { ...env, ...step.env }, input: step.input, timeoutMs: 60_000 })
  const what = `tokenctl ${step.args.join(' ')} (${JSON.stringify(env)})`
  if (!PRINTS_A_TOKEN.has(step.id)) evidence.push({ what: `stdout of ${what}`, text: result.stdout })
  evidence.push({ what: `stderr of ${what}`, text: result.stderr })
  return result
}

/** Every secret there was: the password, the client secret, and each token the server minted. */
function secretsOf(server: ApiServer): Array<[string, string]> {
  const { access, refresh } = server.issued()
  // The whole token, and its last 24 characters (the signature of a JWT, or a random tail):
  // a token cut short must not show its unique part either.
  const token = (kind: string) => (value: string) => [
    [`${kind} token`, value] as [string, string],
    [`the tail of a ${kind} token`, value.slice(-24)] as [string, string],
  ]
  const plain: Array<[string, string]> = [
    ['the password', PASSWORD],
    ['the client secret', CLIENT_SECRET],
    ...access.flatMap(token('access')),
    ...refresh.flatMap(token('refresh')),
  ]
  // A server may echo a secret back encoded (the echoEncoded mode does): those forms must not show either.
  const encoded = plain.flatMap(([name, value]): Array<[string, string]> => [
    [`${name}, base64`, Buffer.from(value).toString('base64').replace(/=+$/, '')],
    [`${name}, base64url`, Buffer.from(value).toString('base64url')],
  ])
  return [...plain, ...encoded]
}

function expectNoLeak(server: ApiServer, evidence: Evidence[]): void {
  const secrets = secretsOf(server)
  expect(secrets.length).toBeGreaterThan(2)
  const leaks: string[] = []
  for (const { what, text } of evidence) {
    for (const [name, secret] of secrets) if (text.includes(secret)) leaks.push(`${name} in ${what}`)
  }
  expect(leaks).toEqual([])
}

/** Runs `work` for each item, a few at a time: each has its own sandbox and server. */
async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: size }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item)
    }),
  )
}

const BASE_ENV = {
  TOKENCTL_STORE: 'file',
  TOKENCTL_CLIENT_SECRET: CLIENT_SECRET,
  TOKENCTL_EXTRA_PASSWORD: `${PASSWORD}-extra`,
}

describe.each([
  ['without debug output', {}],
  ['with TOKENCTL_DEBUG=1', { TOKENCTL_DEBUG: '1' }],
] as Array<[string, Record<string, string>]>)('every command, %s', (_name, debug) => {
  test('leaks no secret to stdout, stderr, any file, or the argv of exec', async () => {
    const sandbox = new Sandbox()
    const server = await startApiServer({ users: { alice: PASSWORD } })
    try {
      const evidence: Evidence[] = []
      expect(await sandbox.run(['env', 'add', ENV, '--url', server.url, '--use'])).toMatchObject({ code: 0 })
      const steps = allSteps(server, sandbox)
      const ran = new Set<string>()
      for (const step of steps) {
        const result = await runStep(sandbox, step, { ...BASE_ENV, ...debug }, evidence)
        ran.add(step.id)
        // A command that crashed (exit 1) would hide what it would have printed.
        expect({ step: step.args.join(' '), code: result.code === 1 ? `1: ${result.stderr}` : 'ok' }).toEqual({
          step: step.args.join(' '),
          code: 'ok',
        })
      }
      // Every command of the manifest ran, and the token-printing ones really printed tokens.
      expect([...ran].sort()).toEqual(Object.keys(manifest.commands).sort())
      expect(fs.readFileSync(path.join(sandbox.dir, 'exec-child'), 'utf8')).toContain('arg-one')
      if (debug.TOKENCTL_DEBUG)
        expect(evidence.some(({ text }) => text.includes('tokenctl debug: http: POST'))).toBe(true)
      collectFiles(sandbox, evidence)
      expectNoLeak(server, evidence)
    } finally {
      await server.close()
      sandbox.cleanup()
    }
  }, 300_000)
})

/**
 * A login made straight at the server and written to the store as tokenctl would, with the
 * access token run out so that every command must go to the (failing) server: it saves a
 * tokenctl run per case, and this test has many cases.
 */
async function seedLogin(server: ApiServer, sandbox: Sandbox): Promise<void> {
  const response = await fetch(`${server.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: PASSWORD }),
  })
  const { data } = (await response.json()) as { data: { token: string; refreshToken: string } }
  const record = {
    accessToken: data.token,
    accessExpiresAt: Date.now() - 60_000,
    refreshToken: data.refreshToken,
    refreshExpiresAt: Date.now() + 86_400_000,
    user: 'alice',
  }
  fs.mkdirSync(sandbox.configDir, { recursive: true, mode: 0o700 })
  fs.writeFileSync(
    path.join(sandbox.configDir, 'credentials.json'),
    JSON.stringify({ version: 1, envs: { [ENV]: record } }),
    { mode: 0o600 },
  )
}

const LOGIN_STEP = { id: 'login', args: ['login', '--username', 'alice', '--password-stdin'], input: `${PASSWORD}\n` }

/** Every command that talks to the server, as each failure mode meets it. */
function networkSteps(server: ApiServer, sandbox: Sandbox): Array<Step & { id: string }> {
  const host = new URL(server.url).host
  return [
    LOGIN_STEP,
    { id: 'token', args: ['token', '--force-refresh'] },
    // With credentials from variables a refused refresh falls back to a login with the password.
    { id: 'token', args: ['token', '--no-input'], env: { TOKENCTL_USERNAME: 'alice', TOKENCTL_PASSWORD: PASSWORD } },
    { id: 'git-credential', args: ['git-credential', 'get'], input: `protocol=http\nhost=${host}\n\n` },
    { id: 'exec', args: ['exec', '--', process.execPath, '-e', childScript(path.join(sandbox.dir, 'exec-child'))] },
    { id: 'revoke', args: ['revoke'] },
  ]
}

test(`every failure mode of the server (${FAILURE_MODES.join(', ')}), before and after handling, with and without debug: no leak`, async () => {
  const problems: string[] = []
  await inPool([...FAILURE_MODES], 3, async (mode) => {
    const sandbox = new Sandbox()
    const server = await startApiServer({ users: { alice: PASSWORD } })
    try {
      const base = { ...BASE_ENV, ...(mode === 'hang' ? { TOKENCTL_TIMEOUT: '1' } : {}) }
      const debug = { ...base, TOKENCTL_DEBUG: '1' }
      const evidence: Evidence[] = []
      expect(await sandbox.run(['env', 'add', ENV, '--url', server.url, '--use'])).toMatchObject({ code: 0 })
      const runAll = async (
        steps: Array<Step & { id: string }>,
        env: Record<string, string>,
        afterHandling: boolean,
      ) => {
        await seedLogin(server, sandbox)
        server.setFailure(mode, { afterHandling })
        for (const step of steps) {
          const result = await runStep(sandbox, step, env, evidence)
          if (result.code === 1) problems.push(`${mode}: ${step.args.join(' ')} crashed: ${result.stderr}`)
        }
        server.setFailure(undefined)
      }
      // Everything with debug output (the most there is to print), then the plain messages,
      // then a server that did the work (rotated the refresh token) and lost the answer.
      await runAll(networkSteps(server, sandbox), debug, false)
      await runAll([LOGIN_STEP, { id: 'token', args: ['token', '--force-refresh'] }], base, false)
      await runAll(
        [
          { id: 'token', args: ['token', '--force-refresh'] },
          { id: 'revoke', args: ['revoke'] },
        ],
        debug,
        true,
      )
      collectFiles(sandbox, evidence)
      try {
        expectNoLeak(server, evidence)
      } catch (error) {
        problems.push(`${mode}: ${(error as Error).message}`)
      }
    } finally {
      await server.close()
      sandbox.cleanup()
    }
  })
  expect(problems).toEqual([])
}, 600_000)

test('oauth2 (a real OpenID provider): password and client-credentials flows, refresh, status, revoke, with debug: no leak', async () => {
  const sandbox = new Sandbox()
  const server = await startOidcServer({ users: { alice: PASSWORD }, accessTokenFormat: 'jwt' })
  try {
    const evidence: Evidence[] = []
    // Every token tokenctl ever held, read from the store after each step (the provider keeps no list).
    const seen = new Set<string>()
    const look = () => {
      const file = path.join(sandbox.configDir, 'credentials.json')
      if (!fs.existsSync(file)) return
      for (const record of Object.values(
        (JSON.parse(fs.readFileSync(file, 'utf8')) as { envs: Record<string, Record<string, unknown>> }).envs,
      )) {
        for (const key of ['accessToken', 'refreshToken', 'idToken'])
          if (typeof record[key] === 'string') seen.add(record[key] as string)
      }
    }
    // Per-env secrets (docs/design.md#credentials-from-variables), so one `revoke --all` has the right one for each.
    const env = {
      ...BASE_ENV,
      TOKENCTL_DEBUG: '1',
      TOKENCTL_SSO_CLIENT_SECRET: POST_CLIENT_SECRET,
      TOKENCTL_SVC_CLIENT_SECRET: SERVICE_CLIENT_SECRET,
    }
    const steps: Array<Step & { id: string }> = [
      {
        id: 'env:add',
        args: [
          'env',
          'add',
          'sso',
          '--issuer',
          server.issuer,
          '--client-id',
          POST_CLIENT_ID,
          '--client-auth',
          'post',
          '--scope',
          'openid offline_access',
          '--use',
        ],
      },
      {
        id: 'env:add',
        args: ['env', 'add', 'svc', '--issuer', server.issuer, '--client-id', SERVICE_CLIENT_ID, '--scope', 'api:read'],
      },
      {
        id: 'login',
        args: ['login', '--flow', 'password', '--username', 'alice', '--password-stdin'],
        input: `${PASSWORD}\n`,
      },
      { id: 'token', args: ['token', '--force-refresh'] },
      // The ID token, refreshed for a long --min-ttl: its debug lines must not carry it.
      { id: 'kube-credential', args: ['kube-credential', '--id-token', '--min-ttl', '2h'] },
      { id: 'refresh', args: ['refresh'] },
      // A wrong secret: the server's refusal must carry neither it nor the right one.
      { id: 'refresh', args: ['refresh'], env: { TOKENCTL_SSO_CLIENT_SECRET: `${POST_CLIENT_SECRET}-wrong` } },
      { id: 'status', args: ['status', '--all'] },
      { id: 'login', args: ['login', '-e', 'svc', '--flow', 'client-credentials', '--no-input'] },
      { id: 'token', args: ['token', '-e', 'svc', '--force-refresh'] },
      { id: 'revoke', args: ['revoke', '--all'] },
    ]
    const codes: string[] = []
    for (const step of steps) {
      const result = await runStep(sandbox, step, env, evidence)
      codes.push(`${step.args.slice(0, 2).join(' ')}: ${result.code}`)
      look()
    }
    // The flows really ran (a leak test that logs nobody in proves nothing).
    expect(codes).toEqual([
      'env add: 0',
      'env add: 0',
      'login --flow: 0',
      'token --force-refresh: 0',
      'kube-credential --id-token: 0',
      'refresh: 0',
      'refresh: 4',
      'status --all: 0',
      'login -e: 0',
      'token -e: 0',
      'revoke --all: 0',
    ])
    expect(seen.size).toBeGreaterThanOrEqual(4)
    collectFiles(sandbox, evidence)
    const secrets: Array<[string, string]> = [
      ['the password', PASSWORD],
      ['a client secret', POST_CLIENT_SECRET],
      ['a wrong client secret', `${POST_CLIENT_SECRET}-wrong`],
      ['a client secret', SERVICE_CLIENT_SECRET],
      ...[...seen].map((token): [string, string] => ['a token', token]),
      ...[...seen].map((token): [string, string] => ['the tail of a token', token.slice(-24)]),
    ]
    const leaks = evidence.flatMap(({ what, text }) =>
      secrets.filter(([, secret]) => text.includes(secret)).map(([name]) => `${name} in ${what}`),
    )
    expect(leaks).toEqual([])
  } finally {
    await server.close()
    sandbox.cleanup()
  }
}, 300_000)

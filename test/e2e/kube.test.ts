/**
 * kubectl end to end (docs/design.md#kubectl, docs/design.md#setup-kube): `kube-credential`
 * against the JSON login API server, byte for byte, both by the fast path and the full one;
 * `setup-kube` on real kubeconfig files; and the real kubectl (/usr/bin/kubectl) asking
 * tokenctl for its token, then calling a small https API server that accepts only a token
 * the login API server still accepts.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

import { type ApiServer, startApiServer } from '../support/api-server.js'
import { BIN, runProcess, Sandbox } from '../support/cli.js'
import { runBothWays } from '../support/fast-path.js'
import { type KubeApiServer, NAMESPACES, startKubeApiServer, writeTestKubeconfig } from '../support/kube-api-server.js'
import { makeTestCertificate } from '../support/tls.js'

const V1 = 'client.authentication.k8s.io/v1'
const V1BETA1 = 'client.authentication.k8s.io/v1beta1'
const KUBECTL = '/usr/bin/kubectl'
const execInfo = (apiVersion: string, interactive = false, server?: string) =>
  JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    spec: { interactive, ...(server === undefined ? {} : { cluster: { server } }) },
  })

let sandbox: Sandbox
let api: ApiServer

beforeEach(async () => {
  sandbox = new Sandbox()
  api = await startApiServer()
  expect(await sandbox.run(['env', 'add', 'prod', '--url', api.url, '--use'], { env: store })).toMatchObject({
    code: 0,
  })
  expect(await sandbox.run(['env', 'add', 'staging', '--url', api.url], { env: store })).toMatchObject({ code: 0 })
  const login = await sandbox.run(['login', '-e', 'prod', '--username', 'alice', '--password-stdin'], {
    env: store,
    input: 'wonderland\n',
  })
  expect(login).toMatchObject({ code: 0, stdout: '' })
})

afterEach(async () => {
  await api?.close()
  sandbox?.cleanup()
})

const store = { TOKENCTL_STORE: 'file' }

/** The access token and its expiry as the file store keeps them for `env`. */
function stored(env = 'prod'): { accessToken: string; accessExpiresAt: number } {
  const file = JSON.parse(fs.readFileSync(path.join(sandbox.configDir, 'credentials.json'), 'utf8')) as {
    envs: Record<string, { accessToken: string; accessExpiresAt: number }>
  }
  return file.envs[env]!
}

/** What kubectl must read, spelled out here rather than built with the code under test. */
function expectedAnswer(apiVersion: string): string {
  const { accessToken, accessExpiresAt } = stored()
  const expiry = new Date(Math.floor(accessExpiresAt / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  return `{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":{"token":"${accessToken}","expirationTimestamp":"${expiry}"}}\n`
}

describe('kube-credential', () => {
  test.each([V1, V1BETA1])('%s: the version asked for, one compact line, the same bytes both ways', async (version) => {
    const { fast, full } = await runBothWays(sandbox, ['kube-credential'], {
      ...store,
      KUBERNETES_EXEC_INFO: execInfo(version),
    })
    expect(fast.path).toBe('fast')
    expect({ ...fast, path: '' }).toEqual({ ...full, path: '' })
    expect(fast).toMatchObject({ code: 0, stderr: '', stdout: expectedAnswer(version) })
    expect(api.isAccessTokenActive(stored().accessToken)).toBe(true)
  })

  test('no KUBERNETES_EXEC_INFO (a kubectl that sends none): answered in v1beta1', async () => {
    const result = await sandbox.run(['kube-credential', '-e', 'prod'], { env: store })
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: expectedAnswer(V1BETA1) })
  })

  test('a stale token is refreshed first: the answer holds the new one', async () => {
    const before = stored().accessToken
    const result = await sandbox.run(['kube-credential', '--min-ttl', '2h'], {
      env: { ...store, KUBERNETES_EXEC_INFO: execInfo(V1) },
    })
    expect(result.code).toBe(0)
    expect(stored().accessToken).not.toBe(before)
    expect(result.stdout).toBe(expectedAnswer(V1))
  })

  test.each([
    [
      'v1alpha1',
      execInfo('client.authentication.k8s.io/v1alpha1'),
      /kubectl asks for "client.authentication.k8s.io\/v1alpha1"/,
    ],
    ['not JSON', '{"apiVersion":', /KUBERNETES_EXEC_INFO is not an ExecCredential in JSON/],
  ])('%s: exit 2 with why, nothing on stdout, both ways alike', async (_name, info, message) => {
    const { fast, full } = await runBothWays(sandbox, ['kube-credential'], { ...store, KUBERNETES_EXEC_INFO: info })
    expect(fast.path).toBe('full')
    expect(fast).toEqual(full)
    expect(fast).toMatchObject({ code: 2, stdout: '' })
    expect(fast.stderr).toMatch(message)
  })

  test("a cluster that is the env's URL host (kubectl names it with provideClusterInfo): answered, both ways alike", async () => {
    const { fast, full } = await runBothWays(sandbox, ['kube-credential'], {
      ...store,
      KUBERNETES_EXEC_INFO: execInfo(V1, false, `${api.url}/k8s/clusters/c-1`),
    })
    expect(fast.path).toBe('fast')
    expect({ ...fast, path: '' }).toEqual({ ...full, path: '' })
    expect(fast).toMatchObject({ code: 0, stderr: '', stdout: expectedAnswer(V1) })
  })

  // The env's own host name on another port is another cluster (a different service on that machine).
  const otherServers: Record<string, (apiUrl: string) => string> = {
    'another host': () => 'https://evil.example.net',
    "the env's host name on another port": (apiUrl) => apiUrl.replace(/:\d+$/, ':1'),
  }
  test.each(Object.keys(otherServers))(
    'a cluster at %s: exit 2 naming it, the env and the fixes, nothing on stdout, both ways alike',
    async (name) => {
      const url = otherServers[name]!(api.url)
      const host = new URL(url).host
      const { fast, full } = await runBothWays(sandbox, ['kube-credential', '-e', 'prod'], {
        ...store,
        KUBERNETES_EXEC_INFO: execInfo(V1, false, url),
      })
      expect(fast.path).toBe('full')
      expect(fast).toEqual(full)
      expect(fast).toMatchObject({ code: 2, stdout: '' })
      expect(fast.stderr).toContain(
        `kubectl asks for a token of env "prod" for the cluster at ${host}, which is not one of the env's hosts (${new URL(api.url).host}); no token was handed out.`,
      )
      expect(fast.stderr).toContain('tokenctl setup-kube -e prod --context CONTEXT')
      expect(fast.stderr).toContain(`tokenctl env add prod … --host ${host} --force`)
      for (const token of [...api.issued().access, ...api.issued().refresh]) expect(fast.stderr).not.toContain(token)
    },
  )

  test.each([false, true])(
    'interactive %s and not logged in: exit 3, the login command on stderr, nothing on stdout, no prompt',
    async (interactive) => {
      const result = await sandbox.run(['kube-credential', '-e', 'staging'], {
        env: { ...store, KUBERNETES_EXEC_INFO: execInfo(V1, interactive) },
      })
      expect(result).toMatchObject({ code: 3, stdout: '' })
      expect(result.stderr).toContain('Run: tokenctl login -e staging')
      for (const token of [...api.issued().access, ...api.issued().refresh]) expect(result.stderr).not.toContain(token)
    },
  )
})

describe('setup-kube', () => {
  const KUBECONFIG_TEXT = [
    '# clusters I use',
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    '    server: https://k.example.com   # the big one',
    '  name: big',
    'contexts:',
    '- context:',
    '    cluster: big',
    '    user: bob',
    '  name: work',
    'current-context: work',
    'kind: Config',
    'preferences: {}',
    'users:',
    '- name: bob',
    '  user:',
    "    token: 'not-ours'   # keep me",
    '',
  ].join('\n')
  const ENTRY = {
    name: 'tokenctl-prod',
    user: {
      exec: {
        apiVersion: V1,
        command: process.execPath,
        args: [BIN, 'kube-credential', '-e', 'prod'],
        interactiveMode: 'IfAvailable',
        installHint: expect.stringContaining('tokenctl setup-kube -e prod'),
        provideClusterInfo: true,
      },
    },
  }
  let file: string

  beforeEach(() => {
    file = path.join(sandbox.dir, 'kubeconfig')
    fs.writeFileSync(file, KUBECONFIG_TEXT, { mode: 0o640 })
    fs.chmodSync(file, 0o640)
  })

  const setup = (args: string[], env: Record<string, string | undefined> = {}) =>
    sandbox.run(['setup-kube', '-e', 'prod', ...args], { env: { ...store, ...env } })

  test('adds the users entry after the others: every byte before it kept, mode kept; a second run changes nothing', async () => {
    const first = await setup(['--kubeconfig', file])
    expect(first).toMatchObject({ code: 0, stdout: '' })
    expect(first.stderr).toContain(`${file}: added user "tokenctl-prod".`)
    expect(first.stderr).toContain(
      `kubectl gets prod's tokens only for clusters whose host is one of the env's (${new URL(api.url).host}). Add a cluster with: tokenctl setup-kube -e prod --context CONTEXT`,
    )
    const once = fs.readFileSync(file, 'utf8')
    expect(once.startsWith(KUBECONFIG_TEXT)).toBe(true)
    expect(parse(once)).toEqual({
      ...parse(KUBECONFIG_TEXT),
      users: [{ name: 'bob', user: { token: 'not-ours' } }, ENTRY],
    })
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)

    const second = await setup(['--kubeconfig', file])
    expect(second).toMatchObject({ code: 0, stdout: '' })
    expect(second.stderr).toContain('nothing to change')
    expect(fs.readFileSync(file, 'utf8')).toBe(once)

    const unset = await setup(['--kubeconfig', file, '--unset'])
    expect(unset).toMatchObject({ code: 0, stdout: '' })
    expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT)
  })

  test('--context points the context at the entry (only its user line changes) and names the next command; --unset clears it', async () => {
    const result = await setup(['--kubeconfig', file, '--context', 'work', '--user', 'me'])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toContain('Next: kubectl --context work get ns')
    const text = fs.readFileSync(file, 'utf8')
    const head = KUBECONFIG_TEXT.replace('    user: bob\n  name: work', '    user: me\n  name: work')
    expect(text.startsWith(head)).toBe(true)
    expect((parse(text) as { users: unknown[] }).users).toEqual([
      { name: 'bob', user: { token: 'not-ours' } },
      { ...ENTRY, name: 'me' },
    ])
    expect(await setup(['--kubeconfig', file, '--context', 'work', '--user', 'me', '--unset'])).toMatchObject({
      code: 0,
    })
    expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT.replace('    user: bob\n', ''))
  })

  /** The env's hosts as config.json keeps them. */
  const hostsOf = (env: string): unknown =>
    (JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8')) as { envs: Record<string, { gitHosts?: string[] }> }).envs[
      env
    ]!.gitHosts

  test("--context records its cluster's host on the env, which kube-credential then answers; once only; --unset keeps it", async () => {
    const bound = execInfo(V1, false, 'https://K.example.com/')
    const before = await sandbox.run(['kube-credential', '-e', 'prod'], {
      env: { ...store, KUBERNETES_EXEC_INFO: bound },
    })
    expect(before).toMatchObject({ code: 2, stdout: '' })

    const result = await setup(['--kubeconfig', file, '--context', 'work', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      kubeconfig: file,
      user: 'tokenctl-prod',
      context: 'work',
      changed: true,
      clusterHost: 'k.example.com',
      hostAdded: true,
    })
    expect(result.stderr).toContain(
      "Cluster host k.example.com now gets prod's tokens (recorded as one of the env's hosts).",
    )
    expect(hostsOf('prod')).toEqual(['k.example.com'])
    expect(hostsOf('staging')).toBeUndefined()
    const config = fs.readFileSync(sandbox.configFile, 'utf8')

    const after = await sandbox.run(['kube-credential', '-e', 'prod'], {
      env: { ...store, KUBERNETES_EXEC_INFO: bound },
    })
    expect(after).toMatchObject({ code: 0, stderr: '', stdout: expectedAnswer(V1) })

    const again = await setup(['--kubeconfig', file, '--context', 'work'])
    expect(again).toMatchObject({ code: 0, stdout: '' })
    expect(again.stderr).toContain("Cluster host k.example.com gets prod's tokens (one of the env's hosts).")
    expect(fs.readFileSync(sandbox.configFile, 'utf8')).toBe(config)

    const unset = await setup(['--kubeconfig', file, '--context', 'work', '--unset'])
    expect(unset).toMatchObject({ code: 0, stdout: '' })
    expect(unset.stderr).toContain("Cluster host k.example.com stays one of prod's hosts")
    expect(hostsOf('prod')).toEqual(['k.example.com'])
  })

  test('an env made from variables: the entry is written, and the warning says the cluster will be refused', async () => {
    const result = await sandbox.run(['setup-kube', '--kubeconfig', file, '--context', 'work'], {
      env: { ...store, TOKENCTL_ENV: 'adhoc', TOKENCTL_URL: 'https://api.example.com' },
    })
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toContain(
      'Env "adhoc" comes from variables, not the config file, so cluster host k.example.com cannot be recorded: kube-credential will refuse that cluster.',
    )
    expect(result.stderr).toContain('tokenctl env add adhoc --url URL --host k.example.com')
    expect(hostsOf('prod')).toBeUndefined()
  })

  test('a context whose name a shell would split or cut: the next command quotes it, and it runs', async () => {
    const name = 'ctx: #1'
    fs.writeFileSync(file, KUBECONFIG_TEXT.replace('  name: work', `  name: '${name}'`))
    const result = await setup(['--kubeconfig', file, '--context', name])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    const next = /Next: (kubectl .*)$/m.exec(result.stderr)?.[1]
    expect(next).toBe("kubectl --context 'ctx: #1' get ns")
    // What the shell makes of it: the context's name as one word.
    const words = await runProcess('/bin/sh', ['-c', `set -- ${next!.slice('kubectl '.length)}; printf '%s\\n' "$@"`], {
      env: sandbox.env(),
      cwd: sandbox.dir,
    })
    expect(words.stdout).toBe('--context\nctx: #1\nget\nns\n')
  })

  test('a context that does not exist: exit 2 naming the ones there are, the file untouched', async () => {
    const result = await setup(['--kubeconfig', file, '--context', 'play'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain(`The kubeconfig ${file} has no context "play" (it has: work).`)
    expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT)
  })

  test.each([[[]], [['--unset']]])(
    '%j --user naming an entry tokenctl did not write: exit 2 naming --force, the file untouched; --force does it',
    async (extra) => {
      const result = await setup(['--kubeconfig', file, '--user', 'bob', ...extra])
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toContain(
        `The kubeconfig's user "bob" is not tokenctl's (it does not run kube-credential); it was left as it was.`,
      )
      expect(result.stderr).toContain('--force')
      expect(result.stderr).not.toContain('not-ours')
      expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT)
      expect(await setup(['--kubeconfig', file, '--user', 'bob', '--force', ...extra])).toMatchObject({ code: 0 })
      const users = (parse(fs.readFileSync(file, 'utf8')) as { users: unknown[] }).users
      expect(users).toEqual(extra.length ? [] : [{ ...ENTRY, name: 'bob' }])
    },
  )

  test('an empty --user: exit 2, the file untouched', async () => {
    const result = await setup(['--kubeconfig', file, '--user', ''])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(result.stderr).toContain('--user must be a name of printable characters.')
    expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT)
  })

  test('KUBECONFIG with several files: the first is edited, the others are not', async () => {
    const other = path.join(sandbox.dir, 'other')
    fs.writeFileSync(other, KUBECONFIG_TEXT)
    const result = await setup(['--json'], { KUBECONFIG: `${file}:${other}` })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      kubeconfig: file,
      user: 'tokenctl-prod',
      context: null,
      changed: true,
      clusterHost: null,
      hostAdded: false,
    })
    expect(fs.readFileSync(file, 'utf8')).not.toBe(KUBECONFIG_TEXT)
    expect(fs.readFileSync(other, 'utf8')).toBe(KUBECONFIG_TEXT)
  })

  test("KUBECONFIG with several files and --context: the file that defines the context gets the entry beside it; the cluster's host is recorded", async () => {
    const other = path.join(sandbox.dir, 'other')
    const OTHER_TEXT = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: far',
      '  cluster:',
      '    server: https://far.example.com:6443',
      'contexts:',
      '- name: far-ctx',
      '  context:',
      '    cluster: far',
      'users: []',
      '',
    ].join('\n')
    fs.writeFileSync(other, OTHER_TEXT)
    const result = await setup(['--context', 'far-ctx', '--json'], { KUBECONFIG: `${file}:${other}` })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ kubeconfig: other, clusterHost: 'far.example.com:6443' })
    expect(result.stderr).toContain(
      `${other}: added user "tokenctl-prod"; context "far-ctx" now uses user "tokenctl-prod".`,
    )
    expect(fs.readFileSync(file, 'utf8')).toBe(KUBECONFIG_TEXT)
    const edited = parse(fs.readFileSync(other, 'utf8')) as { users: unknown[]; contexts: unknown[] }
    expect(edited.users).toEqual([ENTRY])
    expect(edited.contexts).toEqual([{ name: 'far-ctx', context: { cluster: 'far', user: 'tokenctl-prod' } }])
    expect(hostsOf('prod')).toEqual(['far.example.com:6443'])

    // A context whose cluster an earlier file of the list defines: that one's host, as kubectl
    // merges them (the first file to define a name wins), not this file's own.
    fs.writeFileSync(
      other,
      OTHER_TEXT.replace('    cluster: far', '    cluster: big').replace(
        'contexts:',
        '- name: big\n  cluster:\n    server: https://shadowed.example.com\ncontexts:',
      ),
    )
    const across = await setup(['--context', 'far-ctx', '--json'], { KUBECONFIG: `${file}:${other}` })
    expect(JSON.parse(across.stdout)).toMatchObject({ kubeconfig: other, clusterHost: 'k.example.com' })

    const nowhere = await setup(['--context', 'play'], { KUBECONFIG: `${file}:${other}` })
    expect(nowhere).toMatchObject({ code: 2, stdout: '' })
    expect(nowhere.stderr).toContain(`No file of $KUBECONFIG has a context "play": ${file} (work); ${other} (far-ctx).`)
  })

  test('no KUBECONFIG: ~/.kube/config, made 0600 in a 0700 ~/.kube', async () => {
    expect(await setup([])).toMatchObject({ code: 0, stdout: '' })
    const made = path.join(sandbox.home, '.kube', 'config')
    expect(parse(fs.readFileSync(made, 'utf8'))).toEqual({ apiVersion: 'v1', kind: 'Config', users: [ENTRY] })
    expect(fs.statSync(made).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(made)).mode & 0o777).toBe(0o700)
  })
})

// The real kubectl: fails loudly here when it is missing rather than passing without it.
const haveKubectl = fs.existsSync(KUBECTL)
if (!haveKubectl) {
  process.stderr.write(`\n!!! ${KUBECTL} is missing: the real-kubectl tests of kube.test.ts are SKIPPED !!!\n\n`)
}

;(haveKubectl ? describe : describe.skip)(`the real kubectl (${KUBECTL})`, () => {
  let kube: KubeApiServer
  let file: string

  beforeEach(async () => {
    const tls = makeTestCertificate(sandbox.dir)
    kube = await startKubeApiServer({ tls, isValidToken: (token) => api.isAccessTokenActive(token) })
    file = path.join(sandbox.dir, 'kubeconfig')
    writeTestKubeconfig(file, kube, tls.certFile)
    const setup = await sandbox.run(['setup-kube', '-e', 'prod', '--kubeconfig', file, '--context', 'test'], {
      env: store,
    })
    expect(setup).toMatchObject({ code: 0, stdout: '' })
  })

  afterEach(async () => kube?.close())

  const kubectl = () =>
    runProcess(KUBECTL, ['--kubeconfig', file, 'get', '--raw', '/api/v1/namespaces'], {
      env: sandbox.env(store),
      cwd: sandbox.dir,
    })

  test('gets its token from tokenctl and lists the namespaces; nothing but the store holds the token', async () => {
    const result = await kubectl()
    expect(result).toMatchObject({ code: 0 })
    const list = JSON.parse(result.stdout) as { kind: string; items: Array<{ metadata: { name: string } }> }
    expect({ kind: list.kind, names: list.items.map((item) => item.metadata.name) }).toEqual({
      kind: 'NamespaceList',
      names: NAMESPACES,
    })
    const token = stored().accessToken
    expect(kube.requests.filter((request) => request.path === '/api/v1/namespaces')).toEqual([
      { method: 'GET', path: '/api/v1/namespaces', token, status: 200 },
    ])
    expect(kube.requests.filter((request) => request.token !== token)).toEqual([])
    // kubectl keeps an exec plugin's token in memory only: no cache file in the sandbox's HOME has it.
    expect(sandbox.filesContaining(token)).toEqual([path.join(sandbox.configDir, 'credentials.json')])
    expect(result.stderr).not.toContain(token)
  })

  test('a context merged in from another file that points another cluster at the same user: refused, no token sent', async () => {
    // The same API server under another host name (127.0.0.1, not localhost): a cluster setup-kube never recorded.
    const other = path.join(sandbox.dir, 'other-kubeconfig')
    fs.writeFileSync(
      other,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: elsewhere',
        '  cluster:',
        `    server: ${kube.url.replace('localhost', '127.0.0.1')}`,
        '    insecure-skip-tls-verify: true',
        'contexts:',
        '- name: elsewhere',
        '  context:',
        '    cluster: elsewhere',
        '    user: tokenctl-prod',
        '',
      ].join('\n'),
    )
    const result = await runProcess(KUBECTL, ['--context', 'elsewhere', 'get', '--raw', '/api/v1/namespaces'], {
      env: sandbox.env({ ...store, KUBECONFIG: `${file}:${other}` }),
      cwd: sandbox.dir,
    })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`for the cluster at ${new URL(kube.url).host.replace('localhost', '127.0.0.1')}`)
    expect(kube.requests.filter((request) => request.token !== undefined)).toEqual([])
    // The recorded cluster still works.
    expect(await kubectl()).toMatchObject({ code: 0 })
  })

  test("not logged in: kubectl fails and shows tokenctl's hint; no request carries a token", async () => {
    expect(await sandbox.run(['revoke', '-e', 'prod'], { env: store })).toMatchObject({ code: 0 })
    const result = await kubectl()
    expect(result.code).not.toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Run: tokenctl login -e prod')
    expect(kube.requests.filter((request) => request.token !== undefined)).toEqual([])
  })
})

/**
 * kubectl's exec credential plugin protocol (docs/design.md#kubectl) and setup-kube's edit of a
 * kubeconfig (docs/design.md#setup-kube): the pure halves of src/integrations/kube-credential.ts
 * and src/integrations/kubeconfig.ts.
 */
import { parse } from 'yaml'

import { ExitCode } from '../../src/base/errors.js'
import {
  clusterServerIn,
  contextNames,
  editKubeconfig,
  execUser,
  kubeconfigFiles,
  kubeconfigPath,
} from '../../src/integrations/kubeconfig.js'
import { formatExecCredential, parseExecInfo } from '../../src/integrations/kube-credential.js'
import { clusterRefusal } from '../../src/core/kube-cluster.js'
import { shellWord } from '../../src/util/shell-quote.js'
import type { Env } from '../../src/base/env-settings.js'

const V1 = 'client.authentication.k8s.io/v1'
const V1BETA1 = 'client.authentication.k8s.io/v1beta1'
const info = (value: unknown) => JSON.stringify(value)

describe('parseExecInfo', () => {
  test.each([
    ['v1, not interactive', info({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } }), V1, false],
    ['v1, interactive', info({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: true } }), V1, true],
    ['no spec at all', info({ apiVersion: V1, kind: 'ExecCredential' }), V1, false],
    [
      'interactive as a string (not true)',
      info({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: 'true' } }),
      V1,
      false,
    ],
  ])('%s', (_name, text, apiVersion, interactive) => {
    expect(parseExecInfo(text)).toEqual({ apiVersion, interactive })
  })

  test.each([
    ['a server', { server: 'https://k.example.com:6443/rancher' }, 'https://k.example.com:6443/rancher'],
    ['no server', { 'certificate-authority-data': 'Zm9v' }, ''],
    ['a server that is not a string', { server: 6443 }, ''],
    ['not an object', 'k.example.com', ''],
  ])('cluster info with %s: the server kubectl named, or none ("")', (_name, cluster, server) => {
    const text = info({ apiVersion: V1BETA1, kind: 'ExecCredential', spec: { cluster } })
    expect(parseExecInfo(text)).toEqual({ apiVersion: V1BETA1, interactive: false, clusterServer: server })
  })

  test('absent or empty: a kubectl that sends no request, answered in v1beta1, nobody at stdin', () => {
    expect(parseExecInfo(undefined)).toEqual({ apiVersion: V1BETA1, interactive: false })
    expect(parseExecInfo('')).toEqual({ apiVersion: V1BETA1, interactive: false })
    expect(parseExecInfo('  ')).toEqual({ apiVersion: V1BETA1, interactive: false })
  })

  test.each([
    ['not JSON', '{apiVersion', /KUBERNETES_EXEC_INFO is not an ExecCredential in JSON/],
    ['an array', '[]', /KUBERNETES_EXEC_INFO is not an ExecCredential\./],
    ['another kind', info({ apiVersion: V1, kind: 'Pod' }), /KUBERNETES_EXEC_INFO is not an ExecCredential\./],
    [
      'v1alpha1',
      info({ apiVersion: 'client.authentication.k8s.io/v1alpha1', kind: 'ExecCredential' }),
      /kubectl asks for "client\.authentication\.k8s\.io\/v1alpha1"; tokenctl answers/,
    ],
    ['no apiVersion', info({ kind: 'ExecCredential' }), /kubectl asks for no apiVersion/],
  ])('%s: a usage error (exit 2) saying what is wrong', (_name, text, message) => {
    let caught: unknown
    try {
      parseExecInfo(text)
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ exitCode: ExitCode.usage })
    expect((caught as Error).message).toMatch(message)
  })
})

describe('clusterRefusal', () => {
  const env: Env = { name: 'prod', protocol: 'api', url: 'https://api.example.com', gitHosts: ['k.example.com:6443'] }

  test.each([
    ['no cluster info (the person wrote provideClusterInfo: false)', undefined],
    ["the env's URL host", 'https://api.example.com'],
    ['a --host, with a path and upper case', 'https://K.example.com:6443/k8s/clusters/c-1'],
  ])('%s: answered', (_name, clusterServer) => {
    expect(clusterRefusal(env, { clusterServer })).toBeUndefined()
  })

  test('plain http to one of its hosts: refused unless loopback or the env allows http', () => {
    expect(clusterRefusal(env, { clusterServer: 'http://api.example.com' })?.message).toBe(
      'kubectl asks for a token of env "prod" for the cluster at http://api.example.com, over plain http to a host that is not loopback; no token was handed out.',
    )
    expect(clusterRefusal({ ...env, allowHttp: true }, { clusterServer: 'http://api.example.com' })).toBeUndefined()
    const local: Env = { name: 'dev', protocol: 'api', url: 'http://127.0.0.1:8080' }
    expect(clusterRefusal(local, { clusterServer: 'http://127.0.0.1:8080' })).toBeUndefined()
  })

  test.each([
    ['another host', 'https://evil.example.net', 'evil.example.net'],
    ['the right name on another port', 'https://k.example.com', 'k.example.com'],
    ['a suffix of a host', 'https://api.example.com.evil.example.net', 'api.example.com.evil.example.net'],
    ['user info', 'https://api.example.com@evil.example.net', '"https://api.example.com@evil.example.net"'],
    ['no server', '', 'no server'],
  ])('%s: a usage error naming the cluster, the env, and both fixes', (_name, clusterServer, shown) => {
    const refused = clusterRefusal(env, { clusterServer })
    expect(refused).toMatchObject({ exitCode: ExitCode.usage })
    expect(refused!.message).toBe(
      `kubectl asks for a token of env "prod" for the cluster at ${shown}, which is not one of the env's hosts (api.example.com, k.example.com:6443); no token was handed out.`,
    )
    expect(refused!.fix).toContain('tokenctl setup-kube -e prod --context CONTEXT')
    expect(refused!.fix).toContain('tokenctl env add prod … --host ')
  })
})

describe('shellWord', () => {
  test.each([
    ['prod-ctx', 'prod-ctx'],
    ['arn:aws:eks:eu-west-1:1:cluster/a_b', 'arn:aws:eks:eu-west-1:1:cluster/a_b'],
    ['ctx: #1', "'ctx: #1'"],
    ['[::1]:6443', "'[::1]:6443'"],
    ["it's $(x)", `'it'\\''s $(x)'`],
    ['', "''"],
  ])('%j → %s', (value, word) => {
    expect(shellWord(value)).toBe(word)
  })
})

describe('formatExecCredential', () => {
  const expiresAt = Date.UTC(2030, 0, 2, 3, 4, 5, 999)

  test.each([V1, V1BETA1] as const)('%s: one compact line, the version asked for, RFC 3339 in whole seconds', (v) => {
    expect(formatExecCredential(v, { token: 'a.b-c_d~e+f/g=', expiresAt })).toBe(
      `{"apiVersion":"${v}","kind":"ExecCredential","status":{"token":"a.b-c_d~e+f/g=","expirationTimestamp":"2030-01-02T03:04:05Z"}}\n`,
    )
  })
})

describe('kubeconfigPath', () => {
  test('--kubeconfig, else the first entry of KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigPath('/a/b', { KUBECONFIG: '/c' }, '/home/u')).toBe('/a/b')
    expect(kubeconfigPath(undefined, { KUBECONFIG: ':/c:/d' }, '/home/u')).toBe('/c')
    expect(kubeconfigPath(undefined, { KUBECONFIG: '' }, '/home/u')).toBe('/home/u/.kube/config')
    expect(kubeconfigPath(undefined, {}, '/home/u')).toBe('/home/u/.kube/config')
  })

  test('kubeconfigFiles: --kubeconfig alone, else every path of KUBECONFIG once, in order', () => {
    expect(kubeconfigFiles('/a/b', { KUBECONFIG: '/c' }, '/home/u')).toEqual(['/a/b'])
    expect(kubeconfigFiles(undefined, { KUBECONFIG: ':/c::/d:/c' }, '/home/u')).toEqual(['/c', '/d'])
    expect(kubeconfigFiles(undefined, {}, '/home/u')).toEqual(['/home/u/.kube/config'])
  })

  test('contextNames and clusterServerIn read what a file defines', () => {
    const text = 'contexts:\n- name: a\n- {name: b}\n- 3\nclusters:\n- name: c\n  cluster: {server: https://c:1}\n'
    expect(contextNames(text)).toEqual(['a', 'b'])
    expect(contextNames(undefined)).toEqual([])
    expect(clusterServerIn(text, 'c')).toBe('https://c:1')
    expect(clusterServerIn(text, 'd')).toBeUndefined()
  })
})

describe('editKubeconfig', () => {
  const program = { node: '/opt/node/bin/node', script: '/opt/tokenctl/bin/run.js' }
  const change = { user: 'tokenctl-prod', envName: 'prod', program }
  const FILE = [
    '# my clusters',
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    '    server: https://k.example.com   # the big one',
    '  name: big',
    'contexts:',
    '- context: {cluster: big, user: bob}   # flow style',
    '  name: flowing',
    '- context:',
    '    cluster: big',
    '    user: bob',
    '  name: blocky',
    'current-context: blocky',
    'kind: Config',
    'users:',
    '- name: bob',
    '  user:',
    "    token: 'abc'    # keep me",
    '# the end',
    '',
  ].join('\n')

  test('adds the entry after the last user, and not a byte elsewhere changes', () => {
    const { text, changes } = editKubeconfig(FILE, change)
    expect(changes).toEqual(['added user "tokenctl-prod"'])
    const at = FILE.indexOf('# the end')
    expect(text.startsWith(FILE.slice(0, at))).toBe(true)
    expect(text.endsWith('# the end\n')).toBe(true)
    const users = (parse(text) as { users: unknown[] }).users
    expect(users).toEqual([
      { name: 'bob', user: { token: 'abc' } },
      { name: 'tokenctl-prod', user: execUser('prod', program) },
    ])
    expect(execUser('prod', program)).toEqual({
      exec: {
        apiVersion: V1,
        command: '/opt/node/bin/node',
        args: ['/opt/tokenctl/bin/run.js', 'kube-credential', '-e', 'prod'],
        interactiveMode: 'IfAvailable',
        installHint: expect.stringContaining('tokenctl setup-kube -e prod'),
        provideClusterInfo: true,
      },
    })
  })

  test('idempotent: a second run changes nothing; a changed Node path is replaced in place', () => {
    const once = editKubeconfig(FILE, change).text
    expect(editKubeconfig(once, change)).toEqual({ text: once, changes: [] })
    expect(editKubeconfig(once, { ...change, context: 'blocky' }).clusterServer).toBe('https://k.example.com')
    const moved = editKubeconfig(once, { ...change, program: { ...program, node: '/usr/bin/node' } })
    expect(moved.changes).toEqual(['replaced user "tokenctl-prod"'])
    expect(moved.text).toBe(once.replace('/opt/node/bin/node', '/usr/bin/node'))
  })

  test('--context points a block or a flow context at the entry, only its user changes', () => {
    const block = editKubeconfig(FILE, { ...change, context: 'blocky' })
    expect(block.changes).toEqual(['added user "tokenctl-prod"', 'context "blocky" now uses user "tokenctl-prod"'])
    expect(block.text).toBe(
      editKubeconfig(FILE, change).text.replace(
        '    user: bob\n  name: blocky',
        '    user: tokenctl-prod\n  name: blocky',
      ),
    )
    const flow = editKubeconfig(FILE, { ...change, context: 'flowing' })
    expect(flow.text).toContain('- context: {cluster: big, user: tokenctl-prod}   # flow style\n')
  })

  test('--context naming no context is a usage error listing the ones there are', () => {
    expect(() => editKubeconfig(FILE, { ...change, context: 'nope' })).toThrow(
      'The kubeconfig has no context "nope" (it has: flowing, blocky).',
    )
    expect(() => editKubeconfig(FILE, { ...change, context: 'nope', file: '/k/config' })).toThrow(
      'The kubeconfig /k/config has no context "nope" (it has: flowing, blocky).',
    )
  })

  test('--unset removes the entry, and the context user only where it names the entry', () => {
    const set = editKubeconfig(FILE, { ...change, context: 'blocky' }).text
    const unset = editKubeconfig(set, { ...change, context: 'blocky', unset: true })
    expect(unset.changes).toEqual(['removed user "tokenctl-prod"', 'context "blocky" no longer names a user'])
    expect(unset.text).toBe(FILE.replace('    user: bob\n  name: blocky', '  name: blocky'))
    // A context that names someone else keeps its user.
    const other = editKubeconfig(editKubeconfig(FILE, change).text, { ...change, context: 'blocky', unset: true })
    expect(other.text).toBe(FILE)
    expect(editKubeconfig(FILE, { ...change, unset: true })).toEqual({ text: FILE, changes: [] })
  })

  test('a users entry NAME that tokenctl did not write is neither replaced nor removed, unless forced', () => {
    const refused = (unset: boolean) => {
      let caught: unknown
      try {
        editKubeconfig(FILE, { ...change, user: 'bob', unset })
      } catch (error) {
        caught = error
      }
      return caught as { exitCode: number; message: string; fix: string }
    }
    for (const unset of [false, true]) {
      expect(refused(unset)).toMatchObject({
        exitCode: ExitCode.usage,
        message: `The kubeconfig's user "bob" is not tokenctl's (it does not run kube-credential); it was left as it was.`,
      })
      expect(refused(unset).fix).toContain('--force')
    }
    const replaced = editKubeconfig(FILE, { ...change, user: 'bob', force: true })
    expect(replaced.changes).toEqual(['replaced user "bob"'])
    expect((parse(replaced.text) as { users: unknown[] }).users).toEqual([
      { name: 'bob', user: execUser('prod', program) },
    ])
    // Ours (written for another env, or by hand with kube-credential) is replaced without --force.
    const again = editKubeconfig(replaced.text, { ...change, user: 'bob', envName: 'staging' })
    expect(again.changes).toEqual(['replaced user "bob"'])
    const removed = editKubeconfig(FILE, { ...change, user: 'bob', unset: true, force: true })
    expect(removed.changes).toEqual(['removed user "bob"'])
  })

  test('`users: []` in a block-style file: the entry is written as a block list, the rest kept', () => {
    const empty = 'apiVersion: v1\nkind: Config\n# no users yet\nusers: []\n'
    const { text } = editKubeconfig(empty, change)
    expect(text.startsWith('apiVersion: v1\nkind: Config\n# no users yet\nusers:\n')).toBe(true)
    expect(text).toContain('\nusers:\n- name: tokenctl-prod\n')
    expect(text).not.toContain('[')
    expect((parse(text) as { users: unknown[] }).users).toEqual([
      { name: 'tokenctl-prod', user: execUser('prod', program) },
    ])
  })

  test('no file yet: a minimal kubeconfig with the entry', () => {
    const { text } = editKubeconfig(undefined, change)
    expect(parse(text)).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      users: [{ name: 'tokenctl-prod', user: execUser('prod', program) }],
    })
  })

  test('a JSON kubeconfig stays JSON', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [{ name: 'bob', user: {} }] })
    const { text } = editKubeconfig(json, change)
    expect(JSON.parse(text)).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [],
      users: [
        { name: 'bob', user: {} },
        { name: 'tokenctl-prod', user: execUser('prod', program) },
      ],
    })
  })

  test('a file that is not a YAML map is refused (exit 2), not overwritten', () => {
    expect(() => editKubeconfig('- a\n- b\n', change)).toThrow(/not a YAML map/)
    expect(() => editKubeconfig('a: [\n', change)).toThrow(/not a YAML map/)
  })
})

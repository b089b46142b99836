/**
 * docker's and terraform's credential helper protocols (docs/design.md#docker,
 * docs/design.md#terraform) and which env answers for a host
 * (docs/design.md#which-env-answers-for-a-host): the pure halves in src/integrations/ and
 * src/core/host-env.ts, and setup-docker's edit of docker's config.json.
 */
import type { ConfigData } from '../../src/core/config.js'
import { envForHost, hostOf, hostsOfEnvs, isPlainHttpElsewhere } from '../../src/core/host-env.js'
import { hostKey, isOurHost } from '../../src/core/git-hosts.js'
import type { Env } from '../../src/base/env-settings.js'
import { ExitCode } from '../../src/base/errors.js'
import { dockerConfigPath, editDockerConfig } from '../../src/integrations/docker-config.js'
import {
  formatDockerAnswer,
  formatDockerList,
  goJson,
  parseStoreRequest,
  serverAddressOf,
} from '../../src/integrations/docker-credential.js'
import { formatTerraformToken, TERRAFORM_NOTHING } from '../../src/integrations/terraform-credential.js'

describe('hostOf: docker and terraform addresses down to host[:port]', () => {
  test.each([
    ['registry.example.com', 'registry.example.com'],
    ['https://registry.example.com', 'registry.example.com'],
    ['http://registry.example.com:5000/v2/', 'registry.example.com:5000'],
    ['registry.example.com:5000/team/app', 'registry.example.com:5000'],
    ['HTTPS://Registry.Example.COM', 'registry.example.com'],
    ['registry.example.com:443', 'registry.example.com'],
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['[::1]:5000', '[::1]:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('%j → %j', (address, host) => expect(hostOf(address)).toBe(host))

  test.each([
    ['empty', ''],
    ['a space', 'registry example.com'],
    ['a control character', 'registry\u0007.example.com'],
    ['a newline', 'registry.example.com\nevil.example.com'],
    ['a zero-width space', 'registry\u200b.example.com'],
    ['user info', 'alice@registry.example.com'],
    ['a query', 'registry.example.com?x=1'],
    ['a bad port', 'registry.example.com:99999'],
    ['only a scheme', 'https://'],
    ['huge', `${'a'.repeat(3000)}.example.com`],
    // What URL parsing would rewrite is not the host as written: never matched to one that is.
    ['loopback as one number', '2130706433:5000'],
    ['loopback in octal', '0177.0.0.1:5000'],
    ['loopback in hex, short', '0x7f.1:5000'],
    ['a percent-encoded dot', 'registry%2eexample.com'],
    ['a fullwidth letter', '\uff52egistry.example.com'],
    ['the Kelvin sign, which lower-cases to k', '\u212aube.example.com'],
    ['a port with a leading zero', 'registry.example.com:05000'],
    ['an empty port', 'registry.example.com:'],
    ['an IPv6 address not written short', '[0:0:0:0:0:0:0:1]:5000'],
    ['a tab, which URL parsing drops', 'registry.exa\tmple.com'],
  ])('%s: refused', (_, address) => expect(hostOf(address)).toBeUndefined())
})

describe("hostKey: one host rule, git's helper's too", () => {
  const env = { name: 'prod', url: 'http://127.0.0.1:5000', gitHosts: ['registry.example.com'] } as Env
  test.each([
    ['https', 'registry.example.com', true],
    ['https', 'Registry.Example.com:443', true],
    ['http', '127.0.0.1:5000', true],
    ['http', 'registry.example.com', false],
    ['http', '2130706433:5000', false],
    ['http', '0x7f.1:5000', false],
    ['https', 'registry%2eexample.com', false],
    ['https', '\uff52egistry.example.com', false],
  ])('git asks %s://%s: ours %j', (protocol, host, ours) =>
    expect(isOurHost(env, { protocol, host, capabilities: [] })).toBe(ours),
  )
  test('the default port is the one rewrite kept', () => {
    expect(hostKey('registry.example.com:443')).toBe('registry.example.com')
    expect(hostKey('registry.example.com:0443')).toBeUndefined()
    expect(hostKey('[::1]:8443')).toBe('[::1]:8443')
  })
})

test.each([
  ['http://registry.example.com', 'registry.example.com', {}, true],
  ['HTTP://registry.example.com:5000/v2/', 'registry.example.com:5000', {}, true],
  ['http://registry.example.com', 'registry.example.com', { allowHttp: true }, false],
  ['http://127.0.0.1:5000', '127.0.0.1:5000', {}, false],
  ['http://localhost:5000', 'localhost:5000', {}, false],
  ['http://[::1]:5000', '[::1]:5000', {}, false],
  ['https://registry.example.com', 'registry.example.com', {}, false],
  ['registry.example.com', 'registry.example.com', {}, false],
])('isPlainHttpElsewhere(%j): %j', (address, host, env, refused) =>
  expect(isPlainHttpElsewhere(address, host, env)).toBe(refused),
)

describe('envForHost: which env answers', () => {
  const config: ConfigData = {
    current: 'stage',
    envs: {
      prod: { protocol: 'api', url: 'https://api.example.com', gitHosts: ['registry.example.com', 'prod.example.com'] },
      stage: { protocol: 'api', url: 'https://stage.example.com', gitHosts: ['registry.example.com'] },
      zed: { protocol: 'oauth2', issuer: 'https://sso.example.com:8443/realms/x', gitHosts: ['registry.example.com'] },
    },
  }

  test('a shared host: the current env first', () => {
    expect(envForHost('registry.example.com', config, {})?.name).toBe('stage')
    expect(envForHost('registry.example.com', { ...config, current: undefined }, {})?.name).toBe('prod')
  })
  test("a host of one env only, the issuer's host with its port", () => {
    expect(envForHost('prod.example.com', config, {})?.name).toBe('prod')
    expect(envForHost('sso.example.com:8443', config, {})?.name).toBe('zed')
    expect(envForHost('sso.example.com', config, {})).toBeUndefined()
  })
  test('TOKENCTL_ENV or --env forces one; a host not of it is nobody’s', () => {
    expect(envForHost('registry.example.com', config, { TOKENCTL_ENV: 'zed' })?.name).toBe('zed')
    expect(envForHost('prod.example.com', config, { TOKENCTL_ENV: 'zed' })).toBeUndefined()
    expect(envForHost('registry.example.com', config, { TOKENCTL_ENV: 'zed' }, 'prod')?.name).toBe('prod')
  })
  test('an unknown forced env is a usage error', () => {
    expect(() => envForHost('registry.example.com', config, { TOKENCTL_ENV: 'nope' })).toThrow(
      expect.objectContaining({ exitCode: ExitCode.usage }),
    )
  })
  test('the env made from variables answers for its URL host when no configured env does', () => {
    const environ = { TOKENCTL_URL: 'https://ci.example.com' }
    expect(envForHost('ci.example.com', { envs: {} }, environ)?.name).toBe('default')
  })
  test('hostsOfEnvs: every host once, with the env that answers for it', () => {
    const hosts = hostsOfEnvs(config, {})
    expect([...hosts].map(([host, env]) => [host, env.name])).toEqual([
      ['stage.example.com', 'stage'],
      ['registry.example.com', 'stage'],
      ['api.example.com', 'prod'],
      ['prod.example.com', 'prod'],
      ['sso.example.com:8443', 'zed'],
    ])
  })
})

describe("docker's bytes", () => {
  test('get: ServerURL, Username, Secret in that order, Go-escaped, one line', () => {
    expect(
      formatDockerAnswer({ serverUrl: 'https://r.example.com/a?b&c<d>', username: 'alice', secret: 'T.k-n' }),
    ).toBe('{"ServerURL":"https://r.example.com/a?b\\u0026c\\u003cd\\u003e","Username":"alice","Secret":"T.k-n"}\n')
  })
  test('a user named <token> is never sent: docker would take the secret for an identity token', () => {
    expect(formatDockerAnswer({ serverUrl: 'r', username: '<token>', secret: 'T' })).toBe(
      '{"ServerURL":"r","Username":"x-access-token","Secret":"T"}\n',
    )
  })
  test('list: keys sorted as Go sorts a map', () => {
    expect(
      formatDockerList([
        ['b.example.com', 'x'],
        ['a.example.com:5000', 'y'],
        ['a.example.com', 'z'],
      ]),
    ).toBe('{"a.example.com":"z","a.example.com:5000":"y","b.example.com":"x"}\n')
    expect(formatDockerList([])).toBe('{}\n')
  })
  test('goJson escapes the JavaScript line separators too', () => {
    expect(goJson('a\u2028b')).toBe('"a\\u2028b"\n')
  })
  test('the address: lines joined, white space trimmed', () => {
    expect(serverAddressOf(' https://r.example.com\r\n')).toBe('https://r.example.com')
    expect(serverAddressOf('\n\n')).toBe('')
  })
  test.each([
    ['{"ServerURL":"r.example.com","Username":"a","Secret":"s"}\n', { serverUrl: 'r.example.com' }],
    ['{"Username":"a","Secret":"s"}', { error: 'no credentials server URL' }],
    ['{"ServerURL":"r","Secret":"s"}', { error: 'no credentials username' }],
    ['[1]', { error: 'the credentials docker sent are not a JSON object' }],
    ['r.example.com', { error: 'the credentials docker sent are not JSON' }],
  ])('store %j', (input, result) => expect(parseStoreRequest(input)).toEqual(result))
})

describe("terraform's bytes", () => {
  test('get: {"token":…} and a newline; nothing: {} and a newline', () => {
    expect(formatTerraformToken('abc.def')).toBe('{"token":"abc.def"}\n')
    expect(TERRAFORM_NOTHING).toBe('{}\n')
  })
})

describe("setup-docker's edit of config.json", () => {
  const FILE = '/home/a/.docker/config.json'
  const hosts = ['registry.example.com', 'api.example.com:8443']
  const original = '{\n\t"auths": {\n\t\t"x.io": {}\n\t},\n\t"credsStore": "desktop"\n}\n'

  test('adds credHelpers at the end, every other key and the tab indent kept', () => {
    const { text, changes } = editDockerConfig(original, FILE, { hosts })
    expect(text).toBe(
      '{\n\t"auths": {\n\t\t"x.io": {}\n\t},\n\t"credsStore": "desktop",\n\t"credHelpers": {\n\t\t"registry.example.com": "tokenctl",\n\t\t"api.example.com:8443": "tokenctl"\n\t}\n}\n',
    )
    expect(changes).toHaveLength(2)
  })
  test('twice changes nothing; --unset gives back the original bytes', () => {
    const once = editDockerConfig(original, FILE, { hosts }).text
    expect(editDockerConfig(once, FILE, { hosts })).toEqual({ text: once, changes: [], replaced: [] })
    expect(editDockerConfig(once, FILE, { hosts, unset: true }).text).toBe(original)
  })
  test("--unset removes only tokenctl's entries; an existing credHelpers keeps its place", () => {
    const text =
      '{\n  "credHelpers": {\n    "gcr.io": "gcloud",\n    "registry.example.com": "tokenctl"\n  },\n  "x": 1\n}\n'
    expect(editDockerConfig(text, FILE, { hosts, unset: true }).text).toBe(
      '{\n  "credHelpers": {\n    "gcr.io": "gcloud"\n  },\n  "x": 1\n}\n',
    )
  })
  test('a host that used another helper now uses tokenctl, and says which it was', () => {
    const text = '{"credHelpers":{"registry.example.com":"ecr-login"}}'
    const edit = editDockerConfig(text, FILE, { hosts: ['registry.example.com'] })
    expect(edit.replaced).toEqual([{ host: 'registry.example.com', helper: 'ecr-login' }])
    expect(JSON.parse(edit.text)).toEqual({ credHelpers: { 'registry.example.com': 'tokenctl' } })
  })
  test('only credHelpers changes: big integers, 1.0, compact objects, strings with braces stay byte for byte', () => {
    const head =
      '{\n  "n": 12345678901234567890,\n  "f": 1.0,\n  "e": 1E400,\n  "z": -0,\n  "c": {"a":[1,2,{"b":"}\\"{"}]},\n  "credHelpers": {\n    "gcr.io": "gcloud"'
    const tail = '\n  },\n  "s": "tab\\tand \\u00e9"\n}'
    const added = editDockerConfig(head + tail, FILE, { hosts })
    expect(added.text).toBe(
      `${head},\n    "registry.example.com": "tokenctl",\n    "api.example.com:8443": "tokenctl"${tail}`,
    )
    expect(editDockerConfig(added.text, FILE, { hosts, unset: true }).text).toBe(head + tail)
  })
  test('a one-line file stays on one line; its spacing is kept', () => {
    const text = '{"auths":{"x.io":{"auth":"YTpi"}},"n":1.50}'
    const added = editDockerConfig(text, FILE, { hosts: ['r.example.com'] }).text
    expect(added).toBe('{"auths":{"x.io":{"auth":"YTpi"}},"n":1.50,"credHelpers":{"r.example.com":"tokenctl"}}')
    expect(editDockerConfig(added, FILE, { hosts: ['r.example.com'], unset: true }).text).toBe(text)
    expect(editDockerConfig('{ "credHelpers" : { "a" : "b" } }', FILE, { hosts: ['r.example.com'] }).text).toBe(
      '{ "credHelpers" : { "a" : "b", "r.example.com" : "tokenctl" } }',
    )
  })
  test('credHelpers named twice: the last one, the one docker reads, is edited', () => {
    const text = '{"credHelpers":{"a":"b"},"credHelpers":{"r.example.com":"ecr-login"}}'
    expect(editDockerConfig(text, FILE, { hosts: ['r.example.com'] }).text).toBe(
      '{"credHelpers":{"a":"b"},"credHelpers":{"r.example.com":"tokenctl"}}',
    )
  })
  test('no file yet, or an empty one: just credHelpers', () => {
    for (const start of [undefined, '', '\n'])
      expect(editDockerConfig(start, FILE, { hosts: ['r.example.com'] }).text).toBe(
        '{\n\t"credHelpers": {\n\t\t"r.example.com": "tokenctl"\n\t}\n}\n',
      )
  })
  test.each([['[1]'], ['not json'], ['null'], ['{"credHelpers": []}']])('%j is refused (exit 2)', (text) => {
    expect(() => editDockerConfig(text, FILE, { hosts })).toThrow(expect.objectContaining({ exitCode: ExitCode.usage }))
  })
  test('the file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/dk' }, '/home/a')).toBe('/etc/dk/config.json')
    expect(dockerConfigPath({}, '/home/a')).toBe('/home/a/.docker/config.json')
  })
})

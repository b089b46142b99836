import { buildEnvSettings } from '../../src/core/env-build.js'
import { assertEnvName, envVariablePart, isValidEnvName } from '../../src/base/env-name.js'
import { envFromVariables, selectEnv } from '../../src/core/env-select.js'
import { UsageError } from '../../src/base/errors.js'
import { checkServerUrl, isLoopbackHost } from '../../src/base/url-policy.js'
import { variable } from '../../src/base/variables.js'

describe('env names', () => {
  test.each(['prod', 'a', '0', 'prod-eu', 'x.y_z', 'a'.repeat(64)])('%s is valid', (name) =>
    expect(isValidEnvName(name)).toBe(true),
  )
  test.each(['', 'Prod', '-a', '.a', '_a', 'a b', 'a/b', 'a'.repeat(65), 'é'])('%j is not', (name) => {
    expect(isValidEnvName(name)).toBe(false)
    expect(() => assertEnvName(name)).toThrow(UsageError)
  })
  test('variable part: every other character than A-Z0-9 becomes _', () => {
    expect(envVariablePart('prod-eu')).toBe('PROD_EU')
    expect(envVariablePart('a.b_c-9')).toBe('A_B_C_9')
  })
})

describe('variables', () => {
  test('TOKENCTL_<ENV>_<NAME> wins over TOKENCTL_<NAME>; empty counts as unset', () => {
    const environ = { TOKENCTL_PASSWORD: 'generic', TOKENCTL_PROD_EU_PASSWORD: 'specific', TOKENCTL_USERNAME: '' }
    expect(variable(environ, 'prod-eu', 'PASSWORD')).toBe('specific')
    expect(variable(environ, 'staging', 'PASSWORD')).toBe('generic')
    expect(variable(environ, 'staging', 'USERNAME')).toBeUndefined()
  })
})

describe('selectEnv', () => {
  const config = {
    current: 'prod',
    envs: {
      prod: { protocol: 'api' as const, url: 'https://p' },
      dev: { protocol: 'api' as const, url: 'http://localhost' },
    },
  }
  test('flag, then TOKENCTL_ENV, then current, then variables', () => {
    expect(selectEnv('dev', config, { TOKENCTL_ENV: 'prod' }).name).toBe('dev')
    expect(selectEnv(undefined, config, { TOKENCTL_ENV: 'dev' }).name).toBe('dev')
    expect(selectEnv(undefined, config, {}).name).toBe('prod')
    expect(selectEnv(undefined, { envs: {} }, { TOKENCTL_URL: 'https://ci.example.com' })).toMatchObject({
      name: 'default',
      protocol: 'api',
      url: 'https://ci.example.com',
      fromVariables: true,
    })
  })
  test('a named env missing from the config may come from variables when the names agree', () => {
    expect(selectEnv(undefined, { envs: {} }, { TOKENCTL_ENV: 'ci', TOKENCTL_URL: 'https://ci' })).toMatchObject({
      name: 'ci',
      fromVariables: true,
    })
    expect(() => selectEnv('other', { envs: {} }, { TOKENCTL_URL: 'https://ci' })).toThrow('Unknown env "other"')
  })
  test('nothing set up: a usage error that says how to add one', () => {
    expect(() => selectEnv(undefined, { envs: {} }, {})).toThrow('No env is set up yet.')
  })
  test('TOKENCTL_ISSUER makes an oauth2 env', () => {
    expect(envFromVariables({ TOKENCTL_ISSUER: 'https://sso', TOKENCTL_CLIENT_ID: 'cli' })).toMatchObject({
      protocol: 'oauth2',
      issuer: 'https://sso',
      clientId: 'cli',
    })
    expect(() => envFromVariables({ TOKENCTL_URL: 'https://x', TOKENCTL_PROTOCOL: 'soap' })).toThrow(UsageError)
  })
})

describe('URLs', () => {
  test.each(['localhost', 'api.localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1'])('%s is loopback', (host) =>
    expect(isLoopbackHost(host)).toBe(true),
  )
  test.each(['example.com', '128.0.0.1', '10.0.0.1', '::2', 'localhost.example.com'])('%s is not', (host) =>
    expect(isLoopbackHost(host)).toBe(false),
  )
  test('https passes, http only to loopback or when allowed', () => {
    expect(checkServerUrl('https://api.example.com/', '--url')).toBe('https://api.example.com')
    expect(checkServerUrl('https://api.example.com/base', '--url')).toBe('https://api.example.com/base')
    expect(checkServerUrl('http://127.0.0.1:8080', '--url')).toBe('http://127.0.0.1:8080')
    expect(() => checkServerUrl('http://api.example.com', '--url')).toThrow('plain http://')
    expect(checkServerUrl('http://api.example.com', '--url', true)).toBe('http://api.example.com')
    expect(() => checkServerUrl('https://user:pw@api.example.com', '--url')).toThrow(
      'must not hold a user name or password',
    )
  })
})

describe('buildEnvSettings', () => {
  test('git hosts are normalised like git sends them', () => {
    expect(
      buildEnvSettings({ url: 'https://a', gitHosts: ['Git.Example.com', 'git.example.com:443', 'h:8443'] }).gitHosts,
    ).toEqual(['git.example.com', 'h:8443'])
    expect(() => buildEnvSettings({ url: 'https://a', gitHosts: ['https://h/x'] })).toThrow('is not a host name')
  })
  test('flags of the other protocol are refused', () => {
    expect(() => buildEnvSettings({ url: 'https://a', clientId: 'x' })).toThrow('--client-id is for oauth2 envs')
    expect(() => buildEnvSettings({ protocol: 'oauth2', tokenUrl: 'https://t', tokenPath: '/x' })).toThrow(
      '--token-path is for api envs',
    )
    expect(() => buildEnvSettings({ protocol: 'oauth2' })).toThrow('needs an issuer or a token endpoint')
  })
})

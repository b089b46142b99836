import { bindingMismatch, envBinding, envNameOfKey, fingerprint, isBinding, matchingEntry, storeKey } from '../../src/core/binding.js'
import { envFromVariables } from '../../src/core/env-select.js'
import { judgeRecord } from '../../src/stores/types.js'

describe('what a login was issued for', () => {
  const api = { name: 'prod', protocol: 'api' as const, url: 'https://A.example/' }
  const oauth = { name: 'corp', protocol: 'oauth2' as const, issuer: 'https://sso.example/realms/x', tokenUrl: 'https://sso.example/t', clientId: 'cli' }

  test('api: the URL, written one way; oauth2: the issuer (else the token endpoint) and the client, the variable winning', () => {
    expect(envBinding(api, {})).toEqual({ protocol: 'api', server: 'https://a.example' })
    expect(envBinding(oauth, {})).toEqual({ protocol: 'oauth2', server: 'https://sso.example/realms/x', clientId: 'cli' })
    expect(envBinding({ ...oauth, issuer: undefined }, { TOKENCTL_CLIENT_ID: 'ci' })).toEqual({ protocol: 'oauth2', server: 'https://sso.example/t', clientId: 'ci' })
    // The config's default user is not a binding; TOKENCTL_USERNAME (per-env form first) is.
    expect(envBinding({ ...api, username: 'alice' }, {}).user).toBeUndefined()
    expect(envBinding(api, { TOKENCTL_USERNAME: 'bob', TOKENCTL_PROD_USERNAME: 'carol' }).user).toBe('carol')
  })

  test('a mismatch says what the login was made for; the user only when both sides know it; no binding is adopted', () => {
    const here = envBinding(api, {})
    expect(bindingMismatch(undefined, here)).toBeUndefined()
    expect(bindingMismatch({ protocol: 'api', server: 'https://b.example' }, here)).toBe('https://b.example, not https://a.example')
    expect(bindingMismatch({ protocol: 'oauth2', server: 'https://a.example' }, here)).toBe('the oauth2 protocol, not api')
    expect(bindingMismatch({ protocol: 'oauth2', server: 's', clientId: 'x' }, { protocol: 'oauth2', server: 's', clientId: 'y' })).toBe('client "x", not "y"')
    expect(bindingMismatch({ ...here, user: 'alice' }, here)).toBeUndefined()
    expect(bindingMismatch(here, { ...here, user: 'alice' })).toBeUndefined()
    expect(bindingMismatch({ ...here, user: 'alice' }, { ...here, user: 'bob' })).toBe('user "alice", not "bob"')
  })

  test('a cache entry: adopted without a binding, a miss with an unreadable or another one', () => {
    const here = envBinding(api, {})
    const entry: { accessToken: string; accessExpiresAt: number; binding?: unknown } = { accessToken: 't', accessExpiresAt: 1 }
    expect(matchingEntry(entry, here)).toBe(entry)
    expect(matchingEntry({ ...entry, binding: here }, here)).toBeDefined()
    expect(matchingEntry({ ...entry, binding: { protocol: 'api', server: 'https://b.example' } }, here)).toBeUndefined()
    expect(matchingEntry({ ...entry, binding: 'https://a.example' }, here)).toBeUndefined()
  })

  test('a record with a binding that cannot be read cannot be used', () => {
    expect(judgeRecord({ refreshToken: 'r', binding: { protocol: 'api', server: 'https://a' } })).toHaveProperty('record')
    for (const binding of [null, 'x', { server: 'https://a' }, { protocol: 'ftp', server: 's' }, { protocol: 'api', server: 1 }, { protocol: 'api', server: 's', user: 7 }]) {
      expect(isBinding(binding)).toBe(false)
      expect(judgeRecord({ refreshToken: 'r', binding })).toHaveProperty('problem')
    }
  })

  test('the env made from variables is keyed by its server, client and user; an env of the config by its name', () => {
    const key = (environ: Record<string, string>) => storeKey(envFromVariables(environ)!, environ)
    const a = key({ TOKENCTL_URL: 'https://a.example' })
    expect(a).toMatch(/^default~[0-9a-f]{8}$/)
    expect(envNameOfKey(a)).toBe('default')
    expect(key({ TOKENCTL_URL: 'https://a.example/' })).toBe(a)
    const others = [
      key({ TOKENCTL_URL: 'https://b.example' }),
      key({ TOKENCTL_URL: 'https://a.example', TOKENCTL_USERNAME: 'alice' }),
      key({ TOKENCTL_URL: 'https://a.example', TOKENCTL_USERNAME: 'bob' }),
      key({ TOKENCTL_ISSUER: 'https://a.example', TOKENCTL_CLIENT_ID: 'one' }),
      key({ TOKENCTL_ISSUER: 'https://a.example', TOKENCTL_CLIENT_ID: 'two' }),
    ]
    expect(new Set([a, ...others]).size).toBe(6)
    expect(key({ TOKENCTL_ENV: 'ci', TOKENCTL_URL: 'https://a.example' })).toMatch(/^ci~[0-9a-f]{8}$/)
    expect(storeKey(api, { TOKENCTL_USERNAME: 'bob' })).toBe('prod')
  })

  test('FNV-1a, 32 bits', () => {
    expect(fingerprint({ protocol: 'api', server: 'https://a.example' })).toBe(fingerprint({ protocol: 'api', server: 'https://a.example' }))
    expect(fingerprint({ protocol: 'api', server: 'https://a.example' })).toMatch(/^[0-9a-f]{8}$/)
  })
})

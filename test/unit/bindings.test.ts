import {
  bindingMismatch,
  envBinding,
  envNameOfKey,
  fingerprint,
  isBinding,
  matchingEntry,
  storeKey,
} from '../../src/base/binding.js'
import { envFromVariables } from '../../src/core/env-select.js'
import type { Env } from '../../src/base/env-settings.js'
import { changesLogin } from '../../src/core/envs.js'
import { endpointMoves } from '../../src/protocols/oauth2-discovery.js'
import { judgeRecord } from '../../src/stores/types.js'

describe('what a login was issued for', () => {
  const api = { name: 'prod', protocol: 'api' as const, url: 'https://A.example/' }
  const oauth = {
    name: 'corp',
    protocol: 'oauth2' as const,
    issuer: 'https://sso.example/realms/x',
    tokenUrl: 'https://sso.example/t',
    clientId: 'cli',
  }

  test('api: the URL, written one way; oauth2: the issuer (else the token endpoint) and the client, the variable winning', () => {
    expect(envBinding(api, {})).toEqual({ protocol: 'api', server: 'https://a.example' })
    expect(envBinding(oauth, {})).toEqual({
      protocol: 'oauth2',
      server: 'https://sso.example/realms/x',
      endpoints: ['https://sso.example'],
      clientId: 'cli',
    })
    expect(envBinding({ ...oauth, issuer: undefined }, { TOKENCTL_CLIENT_ID: 'ci' })).toEqual({
      protocol: 'oauth2',
      server: 'https://sso.example/t',
      endpoints: ['https://sso.example'],
      clientId: 'ci',
    })
    // The config's default user is not a binding; TOKENCTL_USERNAME (per-env form first) is.
    expect(envBinding({ ...api, username: 'alice' }, {}).user).toBeUndefined()
    expect(envBinding(api, { TOKENCTL_USERNAME: 'bob', TOKENCTL_PROD_USERNAME: 'carol' }).user).toBe('carol')
  })

  test('a mismatch says what the login was made for; the user only when both sides know it; no binding is adopted', () => {
    const here = envBinding(api, {})
    expect(bindingMismatch(undefined, here)).toBeUndefined()
    expect(bindingMismatch({ protocol: 'api', server: 'https://b.example' }, here)).toBe(
      'https://b.example, not https://a.example',
    )
    expect(bindingMismatch({ protocol: 'oauth2', server: 'https://a.example' }, here)).toBe(
      'the oauth2 protocol, not api',
    )
    expect(
      bindingMismatch(
        { protocol: 'oauth2', server: 's', clientId: 'x' },
        { protocol: 'oauth2', server: 's', clientId: 'y' },
      ),
    ).toBe('client "x", not "y"')
    expect(bindingMismatch({ ...here, user: 'alice' }, here)).toBeUndefined()
    expect(bindingMismatch(here, { ...here, user: 'alice' })).toBeUndefined()
    expect(bindingMismatch({ ...here, user: 'alice' }, { ...here, user: 'bob' })).toBe('user "alice", not "bob"')
  })

  test('a cache entry: adopted without a binding, a miss with an unreadable or another one', () => {
    const here = envBinding(api, {})
    const entry: { accessToken: string; accessExpiresAt: number; binding?: unknown } = {
      accessToken: 't',
      accessExpiresAt: 1,
    }
    expect(matchingEntry(entry, here)).toBe(entry)
    expect(matchingEntry({ ...entry, binding: here }, here)).toBeDefined()
    expect(matchingEntry({ ...entry, binding: { protocol: 'api', server: 'https://b.example' } }, here)).toBeUndefined()
    expect(matchingEntry({ ...entry, binding: 'https://a.example' }, here)).toBeUndefined()
  })

  test('a record with a binding that cannot be read cannot be used', () => {
    expect(judgeRecord({ refreshToken: 'r', binding: { protocol: 'api', server: 'https://a' } })).toHaveProperty(
      'record',
    )
    for (const binding of [
      null,
      'x',
      { server: 'https://a' },
      { protocol: 'ftp', server: 's' },
      { protocol: 'api', server: 1 },
      { protocol: 'api', server: 's', user: 7 },
    ]) {
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

  test('jobs that give only a refresh token are keyed by it too; with a user name, by the user', () => {
    const key = (environ: Record<string, string>) => storeKey(envFromVariables(environ)!, environ)
    const url = { TOKENCTL_URL: 'https://a.example' }
    const one = key({ ...url, TOKENCTL_REFRESH_TOKEN: 'refresh-of-alice' })
    const two = key({ ...url, TOKENCTL_REFRESH_TOKEN: 'refresh-of-bob' })
    expect(one).not.toBe(two)
    expect(one).not.toBe(key(url))
    expect(key({ ...url, TOKENCTL_REFRESH_TOKEN: 'refresh-of-alice' })).toBe(one)
    // The user name says whom the job acts as; the refresh token (which rotates) then does not.
    expect(key({ ...url, TOKENCTL_USERNAME: 'alice', TOKENCTL_REFRESH_TOKEN: 'r1' })).toBe(
      key({ ...url, TOKENCTL_USERNAME: 'alice', TOKENCTL_REFRESH_TOKEN: 'r2' }),
    )
    // Every other job keeps the key it had.
    expect(key(url)).toBe(`default~${fingerprint({ protocol: 'api', server: 'https://a.example' })}`)
  })

  test('FNV-1a, 32 bits', () => {
    expect(fingerprint({ protocol: 'api', server: 'https://a.example' })).toBe(
      fingerprint({ protocol: 'api', server: 'https://a.example' }),
    )
    expect(fingerprint({ protocol: 'api', server: 'https://a.example' })).toMatch(/^[0-9a-f]{8}$/)
  })
})

describe('oauth2: a login is bound to the origins its secrets go to', () => {
  const issuer = 'https://sso.example/realms/x'
  const corp: Env = {
    name: 'corp',
    protocol: 'oauth2',
    issuer,
    clientId: 'cli',
    tokenUrl: `${issuer}/token`,
    revokeUrl: `${issuer}/revoke`,
    deviceUrl: `${issuer}/device`,
    authorizeUrl: `${issuer}/auth`,
    discoveredAt: '2026-01-01T00:00:00Z',
  }

  test('the token, revocation and device endpoints count; the authorization endpoint does not', () => {
    expect(envBinding(corp, {}).endpoints).toEqual(['https://sso.example'])
    const here = envBinding(corp, {})
    for (const field of ['tokenUrl', 'revokeUrl', 'deviceUrl'] as const) {
      const moved = envBinding({ ...corp, [field]: 'https://evil.example/x' }, {})
      expect(bindingMismatch(here, moved)).toBe('endpoints at https://sso.example, not https://evil.example')
      expect(changesLogin('corp', corp, { ...corp, [field]: 'https://evil.example/x' }, {})).toBe(true)
    }
    expect(
      bindingMismatch(here, envBinding({ ...corp, authorizeUrl: 'https://elsewhere.example/auth' }, {})),
    ).toBeUndefined()
    // Another path on the same origin, or an endpoint dropped, sends nothing anywhere new.
    expect(changesLogin('corp', corp, { ...corp, tokenUrl: `${issuer}/v2/token`, revokeUrl: undefined }, {})).toBe(
      false,
    )
  })

  test('compared only when both sides keep endpoints: an env made from variables discovers them at each run', () => {
    const fromVariables = envFromVariables({ TOKENCTL_ISSUER: issuer, TOKENCTL_CLIENT_ID: 'cli' })!
    expect(envBinding(fromVariables, { TOKENCTL_ISSUER: issuer, TOKENCTL_CLIENT_ID: 'cli' }).endpoints).toBeUndefined()
    const { endpoints: _none, ...before } = envBinding(corp, {})
    expect(bindingMismatch(before, envBinding({ ...corp, tokenUrl: 'https://evil.example/token' }, {}))).toBeUndefined()
    expect(isBinding({ ...before, endpoints: ['https://a'] })).toBe(true)
    expect(isBinding({ ...before, endpoints: 'https://a' })).toBe(false)
    expect(isBinding({ ...before, endpoints: [1] })).toBe(false)
  })

  test('every move a rediscovery may confirm keeps the login usable', () => {
    const other = 'https://tokens.example'
    // Kept endpoints on the issuer's origin, on another origin, and missing ones.
    const starts: Env[] = [
      corp,
      { ...corp, tokenUrl: `${other}/token`, revokeUrl: `${other}/revoke`, deviceUrl: `${other}/device` },
      { ...corp, tokenUrl: `${other}/token`, revokeUrl: undefined, deviceUrl: undefined },
      { ...corp, revokeUrl: undefined, deviceUrl: undefined },
    ]
    const targets = [`${issuer}/v2/x`, 'https://sso.example/other/x', `${other}/v2/x`, 'https://evil.example/x']
    let confirmed = 0
    for (const start of starts) {
      for (const field of ['tokenUrl', 'revokeUrl', 'deviceUrl'] as const) {
        for (const target of targets) {
          const found = {
            tokenUrl: start.tokenUrl!,
            revokeUrl: start.revokeUrl,
            deviceUrl: start.deviceUrl,
            authorizeUrl: start.authorizeUrl,
            [field]: target,
          }
          let allowed = true
          try {
            endpointMoves({ name: 'corp', issuer, clientId: 'cli', saved: true }, start, found)
          } catch {
            allowed = false
          }
          if (!allowed) continue
          confirmed++
          // What context.ts keeps once the move is confirmed.
          const kept: Env = {
            ...start,
            tokenUrl: found.tokenUrl,
            revokeUrl: found.revokeUrl ?? start.revokeUrl,
            deviceUrl: found.deviceUrl ?? start.deviceUrl,
          }
          expect({ start, field, target, why: bindingMismatch(envBinding(start, {}), envBinding(kept, {})) }).toEqual({
            start,
            field,
            target,
            why: undefined,
          })
        }
      }
    }
    expect(confirmed).toBeGreaterThan(10)
  })
})

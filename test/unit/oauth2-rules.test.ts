import { ServerError } from '../../src/base/errors.js'
import { discoveryUrls, endpointMoves } from '../../src/protocols/oauth2-discovery.js'
import { pollInterval } from '../../src/protocols/oauth2-device.js'

describe('discovery URLs', () => {
  test.each([
    [
      'https://id.example.com',
      [
        'https://id.example.com/.well-known/openid-configuration',
        'https://id.example.com/.well-known/oauth-authorization-server',
      ],
    ],
    [
      'https://id.example.com/',
      [
        'https://id.example.com/.well-known/openid-configuration',
        'https://id.example.com/.well-known/oauth-authorization-server',
      ],
    ],
    // RFC 8414 §3.1: the well-known part goes before the issuer's path, OIDC's after it.
    [
      'https://kc.example.com/realms/corp',
      [
        'https://kc.example.com/realms/corp/.well-known/openid-configuration',
        'https://kc.example.com/.well-known/oauth-authorization-server/realms/corp',
      ],
    ],
    [
      'https://login.example.com/tenant/v2.0/',
      [
        'https://login.example.com/tenant/v2.0/.well-known/openid-configuration',
        'https://login.example.com/.well-known/oauth-authorization-server/tenant/v2.0',
      ],
    ],
  ])('%s', (issuer, expected) => {
    expect(discoveryUrls(issuer)).toEqual(expected)
  })
})

describe('rediscovery may move an endpoint only within the issuer origin or the origin kept', () => {
  const env = { name: 'corp', issuer: 'https://id.example.com/realms/corp', clientId: 'cli', saved: true }
  const kept = { tokenUrl: 'https://api.example.net/oauth/token', revokeUrl: 'https://id.example.com/revoke' }

  test('nothing changed: no move', () => {
    expect(endpointMoves(env, kept, { tokenUrl: kept.tokenUrl })).toEqual([])
  })

  test.each([
    ['the issuer origin', 'https://id.example.com/realms/corp/token'],
    ['the origin of the endpoint kept', 'https://api.example.net/v2/token'],
  ])('a move to %s is a move', (_where, to) => {
    expect(endpointMoves(env, kept, { tokenUrl: to })).toEqual([
      { endpoint: 'tokenUrl', field: 'token_endpoint', from: kept.tokenUrl, to },
    ])
  })

  test.each([
    ['another host', 'https://evil.example.org/token'],
    ['another port of the issuer host', 'https://id.example.com:8443/token'],
    ['plain http on the issuer host', 'http://id.example.com/token'],
  ])('a move to %s is refused with exit 5, naming the host and the env add to run', (_what, to) => {
    let thrown: unknown
    try {
      endpointMoves(env, kept, { tokenUrl: to })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ServerError)
    const error = thrown as ServerError
    expect(error.exitCode).toBe(5)
    expect(error.message).toContain(new URL(to).host)
    expect(error.message).toContain('nothing was sent there')
    expect(error.fix).toContain(
      'tokenctl env add corp --issuer https://id.example.com/realms/corp --client-id cli --force',
    )
  })

  test('any endpoint of the document is held to it, not only the one that failed', () => {
    expect(() =>
      endpointMoves(env, kept, { tokenUrl: kept.tokenUrl, revokeUrl: 'https://evil.example.org/revoke' }),
    ).toThrow(/revocation_endpoint/)
  })
})

describe('the device flow polls at least a second and at most a minute apart', () => {
  test.each([
    [0, 1000],
    [-5000, 1000],
    [5000, 5000],
    [3_000_000_000, 60_000],
    // slow_down adds 5 s each time, and never past the minute
    [55_000 + 5000, 60_000],
    [60_000 + 5000, 60_000],
  ])('%p ms → %p ms', (asked, waited) => {
    expect(pollInterval(asked)).toBe(waited)
  })
})

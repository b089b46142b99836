import { discoveryUrls } from '../../src/protocols/oauth2-discovery.js'

describe('discovery URLs (SPEC §2.2)', () => {
  test.each([
    ['https://id.example.com', ['https://id.example.com/.well-known/openid-configuration', 'https://id.example.com/.well-known/oauth-authorization-server']],
    ['https://id.example.com/', ['https://id.example.com/.well-known/openid-configuration', 'https://id.example.com/.well-known/oauth-authorization-server']],
    // RFC 8414 §3.1: the well-known part goes before the issuer's path, OIDC's after it.
    [
      'https://kc.example.com/realms/corp',
      ['https://kc.example.com/realms/corp/.well-known/openid-configuration', 'https://kc.example.com/.well-known/oauth-authorization-server/realms/corp'],
    ],
    [
      'https://login.example.com/tenant/v2.0/',
      ['https://login.example.com/tenant/v2.0/.well-known/openid-configuration', 'https://login.example.com/.well-known/oauth-authorization-server/tenant/v2.0'],
    ],
  ])('%s', (issuer, expected) => {
    expect(discoveryUrls(issuer)).toEqual(expected)
  })
})

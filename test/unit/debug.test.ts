import { safeUrl } from '../../src/base/debug.js'

describe('safeUrl: a URL as debug lines show it', () => {
  test('query values and user info are left out, keys and path kept', () => {
    expect(safeUrl(new URL('https://u:p@auth.example.com:8443/oauth/token?code=abc123&state=xyz'))).toBe(
      'https://auth.example.com:8443/oauth/token?code=…&state=…',
    )
    expect(safeUrl(new URL('http://127.0.0.1:4000/auth/token'))).toBe('http://127.0.0.1:4000/auth/token')
  })
})

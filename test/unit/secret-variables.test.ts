/**
 * What a process tokenctl starts (exec's child, git, the keychain helper) is left of the
 * variables: never one that buys tokens (docs/design.md#children-get-the-token-not-what-buys-it).
 * Windows' variable names know no case, so there a differently cased name is the same variable.
 */
import { withoutSecretVariables } from '../../src/base/credentials.js'

const environ = {
  PATH: '/bin',
  TOKENCTL_PASSWORD: 'pw-1',
  TOKENCTL_PROD_CLIENT_SECRET: 'cs-1',
  Tokenctl_Refresh_Token: 'rt-1',
  TOKENCTL_URL: 'https://auth.example.com',
}

test('every OS: the upper-case secret variables are dropped, the rest kept', () => {
  expect(withoutSecretVariables(environ, { os: 'linux' })).toEqual({
    PATH: '/bin',
    // On Linux another name, which tokenctl never reads.
    Tokenctl_Refresh_Token: 'rt-1',
    TOKENCTL_URL: 'https://auth.example.com',
  })
})

test('win32: a secret variable in any case is dropped, since Windows reads it as TOKENCTL_REFRESH_TOKEN', () => {
  expect(withoutSecretVariables(environ, { os: 'win32' })).toEqual({
    PATH: '/bin',
    TOKENCTL_URL: 'https://auth.example.com',
  })
})

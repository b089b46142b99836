/**
 * `login`'s choice of a flow (src/core/login-flow.ts), every branch: --flow, else what the
 * flags and credential variables can do, else the server's default (undefined here); never
 * a flow that needs a person when there is none, and no --flow but password for api envs.
 */
import { chooseFlow, type FlowRequest, refuseFlowForApi } from '../../src/core/login-flow.js'
import { LoginRequiredError, UsageError } from '../../src/base/errors.js'

const oauth2 = { name: 'corp', protocol: 'oauth2' } as const
const api = { name: 'prod', protocol: 'api' } as const
const password = { username: 'ci-bot', password: 'pw' }
const client = { clientId: 'cli', clientSecret: 's3cret' }

const choose = (request: Partial<FlowRequest>) => chooseFlow({ env: oauth2, noInput: false, ...request })

describe('api envs', () => {
  test('always the password flow, with or without --flow password, a person or not', () => {
    expect(choose({ env: api })).toBe('password')
    expect(choose({ env: api, flow: 'password', noInput: true })).toBe('password')
  })
  test.each(['device', 'browser', 'client-credentials'])(
    '--flow %s is a usage error (exit 2) naming the env',
    (flow) => {
      expect(() => choose({ env: api, flow })).toThrow(UsageError)
      expect(() => choose({ env: api, flow })).toThrow(
        `--flow ${flow} is for oauth2 envs; "prod" uses the api protocol.`,
      )
      expect(() => refuseFlowForApi(api, flow)).toThrow(expect.objectContaining({ exitCode: 2 }))
    },
  )
  test('refuseFlowForApi lets oauth2 envs and --flow password through', () => {
    expect(() => refuseFlowForApi(oauth2, 'device')).not.toThrow()
    expect(() => refuseFlowForApi(api, 'password')).not.toThrow()
    expect(() => refuseFlowForApi(api, undefined)).not.toThrow()
  })
})

describe('oauth2 envs', () => {
  test.each(['device', 'browser', 'password', 'client-credentials'])('--flow %s wins over everything else', (flow) => {
    expect(choose({ flow, username: 'alice', passwordStdin: true, credentials: { password, client } })).toBe(flow)
  })
  test('--username, --password-stdin or a user name and password from variables mean the password flow', () => {
    expect(choose({ username: 'alice' })).toBe('password')
    expect(choose({ passwordStdin: true })).toBe('password')
    expect(choose({ credentials: { password } })).toBe('password')
    // The password wins over a client secret from variables.
    expect(choose({ credentials: { password, client } })).toBe('password')
  })
  test('a client id and secret from variables mean client credentials, even with --no-input', () => {
    expect(choose({ credentials: { client } })).toBe('client-credentials')
    expect(choose({ credentials: { client }, noInput: true })).toBe('client-credentials')
  })
  test('nothing decides: the server default (undefined), when a person is there', () => {
    expect(choose({})).toBeUndefined()
    // A refresh token from variables is no way to log in.
    expect(choose({ credentials: { refreshToken: 'r' } })).toBeUndefined()
  })
  test('--no-input: password and client credentials still go ahead', () => {
    expect(choose({ flow: 'password', noInput: true })).toBe('password')
    expect(choose({ flow: 'client-credentials', noInput: true })).toBe('client-credentials')
    expect(choose({ username: 'alice', noInput: true })).toBe('password')
  })
  test.each(['device', 'browser'])('--no-input with --flow %s: login required (exit 3), naming the flow', (flow) => {
    const attempt = () => choose({ flow, noInput: true })
    expect(attempt).toThrow(LoginRequiredError)
    expect(attempt).toThrow(`The ${flow} flow needs a person, and --no-input or CI=true says there is none.`)
  })
  test('--no-input and nothing that decides: login required (exit 3), naming the env, saying what would work', () => {
    const attempt = () => choose({ noInput: true })
    expect(attempt).toThrow('Logging in to "corp" needs a person, and --no-input or CI=true says there is none.')
    expect(attempt).toThrow(
      expect.objectContaining({
        exitCode: 3,
        fix: 'Use --flow client-credentials with TOKENCTL_CLIENT_SECRET, or --flow password with TOKENCTL_USERNAME and TOKENCTL_PASSWORD.',
      }),
    )
  })
})

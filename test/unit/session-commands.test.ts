/**
 * What Session does for the commands other than `token` (src/core/session.ts), in-process:
 *
 *  - login: a store out of reach is said (exit 6) before anyone is asked for anything; an
 *    entry that cannot be read, or one made for another server, is simply replaced; the
 *    client secret a person typed is kept, one from a variable never; the password flow's
 *    user name is bound; the flow is recorded for oauth2 only; a failed login stores nothing.
 *  - defaultFlow: the protocol's, built with the client secret of the variable.
 *  - revoke: revoked at the server, then deleted here whatever happened there; a server
 *    failure is re-thrown after the deletion (exit 5); an entry that cannot be read is
 *    deleted unsent; one made for another server is deleted and never sent there;
 *    `keepIfBoundTo` keeps a login already issued for the new settings.
 *  - dropAccessToken (git's `erase`): the access token goes, the refresh token stays, and
 *    only the token named, when one is.
 *  - forget: deleted here, the server not told.
 */
import { CredentialsRejectedError, ServerError, StoreUnavailableError } from '../../src/base/errors.js'
import {
  API_BINDING,
  MIN,
  OAUTH2_BINDING,
  OAUTH2_ENV,
  T0,
  failure,
  harness,
  loggedIn,
  tokens,
} from './session-harness.js'

const password = { username: 'alice', password: 'pw' }

describe('login', () => {
  test('the password flow: the tokens saved, bound to the user name sent, obtainedAt now; the password nowhere', async () => {
    const h = harness({ script: { login: [tokens('L1', T0, 'LR1')] } })
    const record = await h.session.login({ flow: 'password', credentials: password })
    const saved = {
      accessToken: 'L1',
      accessExpiresAt: T0 + 30 * MIN,
      refreshToken: 'LR1',
      refreshExpiresAt: T0 + 7 * 24 * 60 * MIN,
      user: undefined,
      obtainedAt: T0,
      binding: { ...API_BINDING, user: 'alice' },
    }
    expect(record).toEqual({ ...saved, clientSecret: undefined, flow: undefined })
    expect(h.store.peek('prod')).toEqual({ ...saved, clientSecret: undefined, flow: undefined })
    expect(JSON.stringify(h.store.writes)).not.toContain('pw')
    expect(h.events).toEqual([{ env: 'prod', event: 'login', flow: undefined, outcome: 'ok', user: undefined }])
  })
  test('a store out of reach: exit 6 before the protocol is built or anyone asked', async () => {
    const h = harness()
    h.store.failing.get = true
    expect(await failure(h.session.login({ flow: 'password', credentials: password }))).toBeInstanceOf(
      StoreUnavailableError,
    )
    expect(h.protocol.builtWith).toEqual([])
  })
  test('an entry that cannot be read, or one made for another server, is replaced', async () => {
    const h = harness({ script: { login: [tokens('L1', T0, 'LR1'), tokens('L2', T0, 'LR2')] } })
    h.store.corrupt.add('prod')
    await h.session.login({ flow: 'password', credentials: password })
    expect(h.store.peek('prod')?.refreshToken).toBe('LR1')
    h.store.put(
      'prod',
      loggedIn(T0, { binding: { protocol: 'api', server: 'https://other.example.com' }, clientSecret: 'theirs' }),
    )
    await h.session.login({ flow: 'password', credentials: password })
    expect(h.store.peek('prod')).toMatchObject({ refreshToken: 'LR2', binding: { ...API_BINDING, user: 'alice' } })
    // The other server's client secret was never handed to this env's protocol, nor kept.
    expect(h.protocol.builtWith).toEqual([undefined, undefined])
    expect(h.store.peek('prod')?.clientSecret).toBeUndefined()
  })
  test('oauth2: the flow is recorded, a client secret a person typed is kept', async () => {
    const h = harness({ env: OAUTH2_ENV, script: { login: [tokens('CC1', T0)], typedClientSecret: 'typed' } })
    await h.session.login({ flow: 'client-credentials' })
    expect(h.store.peek('corp')).toMatchObject({
      accessToken: 'CC1',
      clientSecret: 'typed',
      flow: 'client-credentials',
      binding: OAUTH2_BINDING,
    })
    expect(h.events[0]).toMatchObject({ event: 'login', flow: 'client-credentials', outcome: 'ok' })
  })
  test('oauth2: a client secret from a variable is used, never kept; one typed before is kept over a new login', async () => {
    const h = harness({ env: OAUTH2_ENV, clientSecret: 'from-variable', script: { login: [tokens('CC1', T0)] } })
    await h.session.login({ flow: 'client-credentials' })
    expect(h.protocol.builtWith).toEqual([{ value: 'from-variable', from: 'variable' }])
    expect(h.store.peek('corp')?.clientSecret).toBeUndefined()
    const again = harness({
      env: OAUTH2_ENV,
      record: loggedIn(T0, { binding: OAUTH2_BINDING, clientSecret: 'typed' }),
      script: { login: [tokens('D1', T0, 'DR1')] },
    })
    await again.session.login({ flow: 'device' })
    expect(again.protocol.builtWith).toEqual([{ value: 'typed', from: 'store' }])
    expect(again.store.peek('corp')).toMatchObject({ accessToken: 'D1', clientSecret: 'typed', flow: 'device' })
  })
  test('a rejected login stores nothing and is told as a failure', async () => {
    const wrong = new CredentialsRejectedError(
      'The server rejected the user name or password.',
      'Check them and run: tokenctl login -e prod',
    )
    const h = harness({ record: loggedIn(T0), script: { login: [wrong] } })
    expect(await failure(h.session.login({ flow: 'password', credentials: password }))).toBe(wrong)
    expect(h.store.writes).toEqual([])
    expect(h.store.peek('prod')).toEqual(loggedIn(T0))
    expect(h.events).toEqual([{ env: 'prod', event: 'login', flow: undefined, outcome: 'failure', error: wrong }])
  })
})

test('defaultFlow is the protocol’s, built with the client secret of the variable', async () => {
  const h = harness({ env: OAUTH2_ENV, clientSecret: 's', script: { defaultFlow: 'device' } })
  expect(await h.session.defaultFlow()).toBe('device')
  expect(h.protocol.builtWith).toEqual([{ value: 's', from: 'variable' }])
})

describe('revoke', () => {
  test('revoked at the server with both tokens, then deleted here', async () => {
    const h = harness({ record: loggedIn(T0), accessCache: true, script: { revoke: ['revoked'] } })
    h.accessCache!.set('prod', { accessToken: 'A1', accessExpiresAt: T0 + 30 * MIN, binding: API_BINDING })
    expect(await h.session.revoke()).toEqual({ hadTokens: true, server: 'revoked' })
    expect(h.protocol.calls).toEqual([{ method: 'revoke', tokens: { refreshToken: 'R1', accessToken: 'A1' } }])
    expect(h.store.peek('prod')).toBeUndefined()
    expect(h.accessCache!.get('prod')).toBeUndefined()
    expect(h.events).toEqual([{ env: 'prod', event: 'revoke', outcome: 'ok', server: 'revoked' }])
  })
  test('nothing stored: nothing sent', async () => {
    const h = harness()
    expect(await h.session.revoke()).toEqual({ hadTokens: false, server: 'skipped' })
    expect(h.protocol.builtWith).toEqual([])
  })
  test('the server fails (exit 5): deleted here all the same, then the error', async () => {
    const down = new ServerError('The server cannot be reached.', 'Try again later.')
    const h = harness({ record: loggedIn(T0), script: { revoke: [down] } })
    expect(await failure(h.session.revoke())).toBe(down)
    expect(h.store.peek('prod')).toBeUndefined()
    expect(h.events).toEqual([{ env: 'prod', event: 'revoke', outcome: 'failure', error: down }])
  })
  test('an entry that cannot be read is deleted, with nothing of it sent', async () => {
    const h = harness({ script: { revoke: ['revoked'] } })
    h.store.corrupt.add('prod')
    expect(await h.session.revoke()).toEqual({ hadTokens: true, server: 'revoked', unreadable: true })
    expect(h.protocol.calls).toEqual([
      { method: 'revoke', tokens: { refreshToken: undefined, accessToken: undefined } },
    ])
    expect(h.store.corrupt.has('prod')).toBe(false)
  })
  test('one made for another server is deleted here and never sent there', async () => {
    const h = harness({ record: loggedIn(T0, { binding: { protocol: 'api', server: 'https://other.example.com' } }) })
    expect(await h.session.revoke()).toEqual({
      hadTokens: true,
      server: 'skipped',
      mismatch: 'The stored login of "prod" was made for https://other.example.com, not https://api.example.com.',
    })
    expect(h.protocol.builtWith).toEqual([])
    expect(h.store.peek('prod')).toBeUndefined()
    expect(h.events).toEqual([{ env: 'prod', event: 'forget', outcome: 'ok' }])
  })
  test('keepIfBoundTo: a login issued for the new settings is kept', async () => {
    const h = harness({ record: loggedIn(T0) })
    expect(await h.session.revoke({ keepIfBoundTo: API_BINDING })).toEqual({
      hadTokens: false,
      server: 'skipped',
      kept: true,
    })
    expect(h.store.peek('prod')).toEqual(loggedIn(T0))
    expect(h.protocol.builtWith).toEqual([])
  })
})

describe('dropAccessToken (git erase)', () => {
  test('the access token goes, the refresh token stays: the next token refreshes', async () => {
    const h = harness({ record: loggedIn(T0), script: { refresh: [tokens('A2', T0)] } })
    await h.session.dropAccessToken()
    expect(h.store.peek('prod')).toEqual({
      ...loggedIn(T0),
      accessToken: undefined,
      accessExpiresAt: undefined,
      obtainedAt: undefined,
    })
    expect(await h.session.getToken()).toMatchObject({ accessToken: 'A2', source: 'refresh' })
    expect(h.events.map(({ event }) => event)).toEqual(['erase', 'refresh'])
  })
  test('only the token named: another one is left alone', async () => {
    const h = harness({ record: loggedIn(T0) })
    await h.session.dropAccessToken('SOMETHING-ELSE')
    expect(h.store.peek('prod')).toEqual(loggedIn(T0))
    await h.session.dropAccessToken('A1')
    expect(h.store.peek('prod')?.accessToken).toBeUndefined()
  })
})

test('forget deletes here, tells the server nothing, and says whether there was anything', async () => {
  const h = harness({ record: loggedIn(T0) })
  expect(await h.session.forget()).toBe(true)
  expect(await h.session.forget()).toBe(false)
  expect(h.store.peek('prod')).toBeUndefined()
  expect(h.protocol.builtWith).toEqual([])
  expect(h.events).toEqual([{ env: 'prod', event: 'forget', outcome: 'ok' }])
})

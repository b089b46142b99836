/**
 * How the client authenticates to the token endpoint (RFC 6749 §2.3.1), and when a person
 * is asked for the client secret, in-process.
 */
import { redactAll } from '../../src/base/secrets.js'
import { clientAuthentication, OAuthClient } from '../../src/protocols/oauth2-client-auth.js'
import type { ClientSecret, Interaction } from '../../src/protocols/types.js'

describe('what a request adds to authenticate the client', () => {
  test('a public client sends its id in the body, and nothing else', () => {
    expect(clientAuthentication('cli', undefined, undefined)).toEqual({ body: { client_id: 'cli' }, headers: {} })
    expect(clientAuthentication('cli', undefined, 'post')).toEqual({ body: { client_id: 'cli' }, headers: {} })
  })

  test('client_secret_post: id and secret in the body', () => {
    expect(clientAuthentication('svc', 'a-client-secret-1', 'post')).toEqual({
      body: { client_id: 'svc', client_secret: 'a-client-secret-1' },
      headers: {},
    })
  })

  test.each(['basic', undefined] as const)(
    'client_secret_basic (%p): id and secret form-encoded each, then base64, in the header only',
    (method) => {
      // RFC 6749 §2.3.1 form-encodes both before the Basic scheme joins them with ":".
      const auth = clientAuthentication('my client', 'p@ss:wörd +/x', method)
      expect(auth.body).toEqual({})
      expect(auth.headers).toEqual({
        authorization: `Basic ${Buffer.from('my+client:p%40ss%3Aw%C3%B6rd+%2B%2Fx').toString('base64')}`,
      })
    },
  )

  test('every form the secret takes in the request is masked wherever it is printed', () => {
    const auth = clientAuthentication('quoting-client', 'secret with spaces', undefined)
    const basic = auth.headers.authorization!.slice('Basic '.length)
    expect(redactAll(`[${basic}] [quoting-client:secret+with+spaces] [quoting-client:secret with spaces]`)).toBe(
      '[***] [***] [***]',
    )
  })
})

describe('a person may supply the client secret the server asks for, once per need', () => {
  function person(typed: string) {
    const asked: string[] = []
    const interaction: Interaction = {
      askClientSecret: async (reason) => {
        asked.push(reason)
        return typed
      },
    }
    return { interaction, asked }
  }

  test('no secret yet: asked as missing; the typed one is used from then on and is the one to keep', async () => {
    const client = new OAuthClient('svc', undefined)
    const { interaction, asked } = person('typed-secret-value')
    await expect(client.askForSecret(interaction)).resolves.toBe(true)
    expect(asked).toEqual(['missing'])
    expect(client.secret).toEqual({ value: 'typed-secret-value', from: 'person' })
    expect(client.typed).toBe('typed-secret-value')
    expect(client.authentication('post').body).toEqual({ client_id: 'svc', client_secret: 'typed-secret-value' })
  })

  test('a stored secret the server refused: asked as rejected', async () => {
    const client = new OAuthClient('svc', { value: 'stored-secret-value', from: 'store' })
    const { interaction, asked } = person('new-secret-value')
    await expect(client.askForSecret(interaction)).resolves.toBe(true)
    expect(asked).toEqual(['rejected'])
  })

  test('a secret from a variable is not second-guessed: nobody is asked', async () => {
    const given: ClientSecret = { value: 'variable-secret-value', from: 'variable' }
    const client = new OAuthClient('svc', given)
    const { interaction, asked } = person('typed-secret-value')
    await expect(client.askForSecret(interaction)).resolves.toBe(false)
    expect(asked).toEqual([])
    expect(client.secret).toBe(given)
    expect(client.typed).toBeUndefined()
  })

  test('nobody to ask, or nothing typed: no secret, nothing to keep', async () => {
    const client = new OAuthClient('svc', undefined)
    await expect(client.askForSecret(undefined)).resolves.toBe(false)
    await expect(client.askForSecret({})).resolves.toBe(false)
    await expect(client.askForSecret(person('').interaction)).resolves.toBe(false)
    expect(client.secret).toBeUndefined()
    expect(client.typed).toBeUndefined()
  })
})

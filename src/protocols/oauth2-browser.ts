import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import { CredentialsRejectedError, InterruptedError, LoginRequiredError, type TokenctlError } from '../base/errors.js'
import { rememberSecrets } from '../base/secrets.js'
import type { Interaction } from './types.js'

export interface AuthorizationCode {
  code: string
  redirectUri: string
  codeVerifier: string
}

export interface BrowserAuthorization {
  authorizeUrl: string
  clientId: string
  scope?: string
  envName: string
  interaction: Interaction
  /** How an `error` the server sends back to the callback becomes a typed error. */
  mapError: (code: string, description: string | undefined) => TokenctlError
}

export const DEFAULT_BROWSER_TIMEOUT_MS = 5 * 60_000

/**
 * The front half of the authorization code flow with PKCE S256 (RFC 7636) for a native
 * app (RFC 8252): a listener on 127.0.0.1 with a port the OS picks, the browser sent to
 * the authorization endpoint, and the one callback that carries our `state` awaited.
 */
export async function authorizeInBrowser(options: BrowserAuthorization): Promise<AuthorizationCode> {
  const { interaction, envName } = options
  const state = randomBytes(32).toString('base64url')
  const codeVerifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(codeVerifier).digest('base64url')

  const server = http.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`

  const url = new URL(options.authorizeUrl)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', options.clientId)
  url.searchParams.set('redirect_uri', redirectUri)
  if (options.scope) url.searchParams.set('scope', options.scope)
  url.searchParams.set('state', state)
  url.searchParams.set('code_challenge', challenge)
  url.searchParams.set('code_challenge_method', 'S256')

  const timeoutMs = interaction.timeoutMs ?? DEFAULT_BROWSER_TIMEOUT_MS
  const again = `Run: tokenctl login -e ${envName} --flow browser (or --flow device where there is no browser).`

  return new Promise<AuthorizationCode>((resolve, reject) => {
    const finish = (error: TokenctlError | undefined, value?: AuthorizationCode) => {
      timer.clear()
      interaction.signal?.removeEventListener('abort', onAbort)
      server.close()
      server.closeAllConnections()
      if (error) reject(error)
      else resolve(value!)
    }
    const onAbort = () => finish(new InterruptedError('The login was stopped; nothing was stored.'))
    const timer = longTimeout(
      () =>
        finish(
          new LoginRequiredError(
            `No answer came back from the browser within ${describe(timeoutMs)}; nothing was stored.`,
            again,
          ),
        ),
      timeoutMs,
    )
    if (interaction.signal?.aborted) return onAbort()
    interaction.signal?.addEventListener('abort', onAbort, { once: true })

    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      const callback = new URL(request.url ?? '/', redirectUri)
      if (request.method !== 'GET' || callback.pathname !== '/callback') {
        page(response, 404, 'Not found.')
        return
      }
      const params = callback.searchParams
      if (params.get('state') !== state) {
        // Not the answer to our request: someone else's page, or a forged one. Trust nothing
        // of it, and let it end nothing either: any local process can reach this port, and
        // one that could stop the login with a wrong state could stop every login.
        page(response, 400, 'This answer does not belong to the login tokenctl started, so it was refused.')
        return
      }
      const error = params.get('error')
      if (error) {
        page(response, 400, 'The login did not complete. Go back to the terminal for details.')
        finish(options.mapError(error, params.get('error_description') ?? undefined))
        return
      }
      const code = params.get('code')
      // An authorization code buys tokens (with the verifier): neither may be printed.
      rememberSecrets(code, codeVerifier)
      if (!code) {
        page(response, 400, 'The answer had no authorization code. Go back to the terminal.')
        finish(
          new CredentialsRejectedError(
            'The browser came back without an authorization code; nothing was stored.',
            again,
          ),
        )
        return
      }
      page(response, 200, 'You are logged in to tokenctl. You can close this tab.')
      finish(undefined, { code, redirectUri, codeVerifier })
    })

    interaction.openBrowser?.(url.toString())
  })
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer --timeout is waited for in steps, never overflowed into "at once". */
const MAX_TIMER_MS = 2 ** 31 - 1

function longTimeout(fire: () => void, ms: number): { clear: () => void } {
  const end = Date.now() + ms
  let timer: NodeJS.Timeout
  const arm = () => {
    const left = end - Date.now()
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(left, 0))
  }
  arm()
  return { clear: () => clearTimeout(timer) }
}

/** Fixed text only: nothing from the query string is echoed into the page. */
function page(response: http.ServerResponse, status: number, text: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>tokenctl</title></head><body style="font-family:sans-serif;margin:3em"><p>${text}</p></body></html>`
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'close',
  })
  response.end(body)
}

function describe(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`
}

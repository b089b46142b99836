import { type TokenView, viewToken } from '../util/jwt.js'
import { bindingMismatch, mismatchError } from '../base/binding.js'
import type { Context } from './context.js'
import { LoginRequiredError } from '../base/errors.js'
import type { TokenResult } from './session.js'

export type Inspection = TokenView & {
  env: string
  /** When tokenctl considers the token expired (epoch ms): the server's lifetime, else the JWT `exp`. */
  expiresAt: number
  /** `store`: read as it is kept (--no-refresh), possibly expired. */
  source: TokenResult['source'] | 'store'
}

/**
 * docs/design.md#commands `inspect`. By default it looks at what `token` would hand out, by the same
 * rules (so it refreshes a token that runs low); with `refresh: false` it reads what is
 * kept, expired or not, and never talks to the server.
 */
export async function inspectToken(
  { env, key, binding, session, store }: Context,
  { refresh = true } = {},
): Promise<Inspection> {
  let token: { accessToken: string; accessExpiresAt: number; source: Inspection['source'] }
  if (refresh) {
    token = await session.getToken()
  } else {
    const record = await store.get(key)
    // A token issued for another server or client is not this env's to show.
    const mismatch = record && bindingMismatch(record.binding, binding)
    if (mismatch) throw mismatchError(env.name, mismatch)
    if (!record?.accessToken || record.accessExpiresAt === undefined) {
      throw new LoginRequiredError(
        `No access token is kept for "${env.name}".`,
        `Run: tokenctl inspect -e ${env.name} (without --no-refresh), or tokenctl login -e ${env.name}`,
      )
    }
    token = { accessToken: record.accessToken, accessExpiresAt: record.accessExpiresAt, source: 'store' }
  }
  // The token itself stops here: only what it says about itself goes on.
  return { env: env.name, expiresAt: token.accessExpiresAt, source: token.source, ...viewToken(token.accessToken) }
}

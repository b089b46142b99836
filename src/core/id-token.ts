import { UsageError } from '../base/errors.js'
import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'

/**
 * When an env can have no OpenID Connect ID token (docs/design.md#kubectl), known from its
 * settings alone: `kube-credential --id-token` says so before any request, and
 * `setup-kube --id-token` before it writes a kubeconfig that could never work. Exit 2:
 * the env's settings are at fault, and logging in again would not help.
 */

/** Only an oauth2 env has ID tokens. */
export function notOauth2(env: Pick<Env, 'name' | 'protocol'>): UsageError | undefined {
  if (env.protocol === 'oauth2') return undefined
  return new UsageError(
    `--id-token needs an oauth2 env; "${env.name}" uses the ${env.protocol} protocol, which has no ID tokens.`,
    `Leave out --id-token for "${env.name}", or use an oauth2 env: tokenctl env add NAME --issuer URL --client-id ID`,
  )
}

/** A scope named without openid: the server sends an ID token only for openid. No scope named: the server's default may. */
export function asksForIdToken(scope: string | undefined): boolean {
  return scope === undefined || scope.split(/\s+/).includes('openid')
}

/**
 * No ID token to be had: the scope has no openid, or the server sent none. A refresh keeps
 * the login's scope, so the fix is the scope and a new login.
 */
export function noIdToken(env: Pick<Env, 'name' | 'scope'>, why: 'answer' | 'scope' = 'answer'): UsageError {
  const { name, scope } = env
  return new UsageError(
    why === 'scope'
      ? `"${name}" gets no ID token: its scope ("${printable(scope ?? '', 120)}") has no openid, and a server sends one only for openid.`
      : `The server of "${name}" sent no ID token with its tokens; it sends one only when the login asked for the openid scope.`,
    `Add openid to the scope and log in again: tokenctl env add ${name} … --scope "openid offline_access" --force, then tokenctl login -e ${name}`,
  )
}

/** Why this env can never give an ID token, or undefined when it may. */
export function idTokenRefusal(env: Pick<Env, 'name' | 'protocol' | 'scope'>): UsageError | undefined {
  return notOauth2(env) ?? (asksForIdToken(env.scope) ? undefined : noIdToken(env, 'scope'))
}

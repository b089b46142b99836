/**
 * What a stored login was issued for, and whether the env in use is that same thing.
 *
 * A refresh token buys tokens from the server that issued it, for the client and user it
 * was issued to. Sent anywhere else it is a secret handed to a stranger: an env whose URL
 * was changed by `env add --force` or by a hand-edited config, or a CI job that shares a
 * runner (and so a cache) with another job for another server or user. So every record
 * (and every access-cache entry) carries its binding, and one that does not match the env
 * in use is never used and none of its secrets is sent anywhere.
 *
 * Pure and small: the fast path of bin/run.js decides with it too, so it loads nothing
 * (no node:crypto: about 5 ms of a cache hit).
 */
import { printable } from './env-name.js'
import type { Env, Protocol } from './env-settings.js'
import { LoginRequiredError } from './errors.js'
import type { Environ } from './paths.js'
import { variable } from './variables.js'
import { isObject } from '../util/is-object.js'

export interface Binding {
  protocol: Protocol
  /** api: the env URL; oauth2: the issuer, else the token endpoint. Normalised (see serverOf). */
  server: string
  /**
   * oauth2 envs that keep their endpoints: the origins of those that receive secrets (the
   * token, revocation and device authorization endpoints; not the authorization endpoint,
   * which gets only the client id), sorted. An issuer names the server, but the refresh
   * token and the client secret go to these: one moved to another host by `env add
   * --force` or a hand-edited config would hand them to that host. Absent when the env
   * keeps none (an env made from variables discovers its endpoints at each run).
   */
  endpoints?: string[]
  /** oauth2: the client the tokens were issued to. */
  clientId?: string
  /**
   * The user name the login was made with, when tokenctl sent one (the password flow).
   * Not the name a server reports in its claims (an e-mail, a subject): that could never
   * be compared with the TOKENCTL_USERNAME a CI job sets.
   */
  user?: string
}

/**
 * The binding of the env in use: what a record must have been issued for.
 *
 * The client id of TOKENCTL_CLIENT_ID wins over the config's, as it does for the requests
 * themselves (context.ts): the tokens are asked for by that client. The user is known
 * only from TOKENCTL_USERNAME (or its per-env form): a CI job saying whom it acts as. The
 * config's `username` is only the default offered at `login`: a person may log in as
 * someone else, and that login is theirs to use.
 */
export function envBinding(env: Env, environ: Environ): Binding {
  const binding: Binding = { protocol: env.protocol, server: serverOf(env) }
  if (env.protocol === 'oauth2' && env.tokenUrl) binding.endpoints = secretEndpoints(env)
  const clientId = env.protocol === 'oauth2' ? (variable(environ, env.name, 'CLIENT_ID') ?? env.clientId) : undefined
  if (clientId) binding.clientId = clientId
  const user = variable(environ, env.name, 'USERNAME')
  if (user) binding.user = user
  return binding
}

/**
 * The key of the env's record in the store, its access-cache file and its lock: every
 * place that keeps something per env goes through this one function, so they all agree.
 *
 * An env of the config is its name (one login per env; a changed server is caught by the
 * binding). The env made from variables alone has no config entry to tell jobs apart:
 * two CI jobs on one runner share the runtime dir, and with the same name (`default`)
 * they would share one record. So its key also carries a hash of its binding (URL or
 * issuer, client, user): a job for another server or user has another record, another
 * cache file and another lock. The env is still shown by its name.
 */
export function storeKey(env: Env, environ: Environ, binding: Binding = envBinding(env, environ)): string {
  if (!env.fromVariables) return env.name
  // A job that gives only a refresh token (no user name) says whom it acts as by that token
  // alone: two such jobs for one server and client are two users, and must not share a
  // record (the stored refresh token wins over the variable) or a cached access token.
  const refreshToken = binding.user === undefined ? variable(environ, env.name, 'REFRESH_TOKEN') : undefined
  return `${env.name}~${fingerprint(binding, refreshToken)}`
}

/** The env name a store key was made from, for messages. */
export function envNameOfKey(key: string): string {
  const at = key.indexOf('~')
  return at === -1 ? key : key.slice(0, at)
}

/**
 * Why a record bound to `stored` must not be used for the env bound to `current`, in words
 * that complete "was made for …"; undefined when it may be used.
 *
 * A record with no binding at all was written before bindings existed. It is adopted: it
 * was written by tokenctl, for this env name, into the user's own store (a place other
 * users cannot write), and refusing it would log every person out on upgrade. The session
 * binds it at its next save.
 *
 * The user is compared only when both sides know it: a record made by a device or
 * browser login knows no user name, and an env without TOKENCTL_USERNAME does not say
 * whom it acts as.
 */
export function bindingMismatch(stored: Binding | undefined, current: Binding): string | undefined {
  if (!stored) return undefined
  if (stored.protocol !== current.protocol) return `the ${stored.protocol} protocol, not ${current.protocol}`
  if (stored.server !== current.server) return `${printable(stored.server, 200)}, not ${printable(current.server, 200)}`
  const elsewhere = newEndpoint(stored, current)
  if (elsewhere !== undefined)
    return `endpoints at ${allowedOrigins(stored)
      .map((origin) => printable(origin, 200))
      .join(' and ')}, not ${printable(elsewhere, 200)}`
  if ((stored.clientId ?? '') !== (current.clientId ?? ''))
    return `client ${quoted(stored.clientId)}, not ${quoted(current.clientId)}`
  if (stored.user !== undefined && current.user !== undefined && stored.user !== current.user)
    return `user "${printable(stored.user)}", not "${printable(current.user)}"`
  return undefined
}

/**
 * An origin the env in use would send secrets to that the login was not bound to; undefined
 * when there is none, or when either side keeps no endpoints (a login from before endpoints
 * were bound, an env that discovers them at each run: it trusts its issuer's document).
 *
 * The issuer's own origin is always allowed: it is the server the login was issued by, and
 * a rediscovery may move an endpoint there by itself (oauth2-discovery.ts endpointMoves
 * allows only that or a move within the kept endpoint's origin), so a confirmed move never
 * makes a login unusable. An endpoint that is dropped sends nothing anywhere new.
 */
function newEndpoint(stored: Binding, current: Binding): string | undefined {
  if (!stored.endpoints || !current.endpoints) return undefined
  const allowed = allowedOrigins(stored)
  return current.endpoints.find((origin) => !allowed.includes(origin))
}

function allowedOrigins(binding: Binding): string[] {
  return [...new Set([originOf(binding.server), ...(binding.endpoints ?? [])])].sort()
}

/**
 * An access-cache entry, when it may be served for the env bound to `current`: by the same
 * rule as a record (one without a binding is adopted, for the same reasons; it lives at
 * most as long as its token). One whose binding cannot be read is a miss: the store decides.
 */
export function matchingEntry<T extends { binding?: unknown }>(entry: T | undefined, current: Binding): T | undefined {
  if (!entry) return undefined
  if (entry.binding === undefined) return entry
  if (!isBinding(entry.binding) || bindingMismatch(entry.binding, current) !== undefined) return undefined
  return entry
}

/** What a command that needs the env's login says when the stored one is another's (exit 3). */
export function mismatchError(envName: string, why: string): LoginRequiredError {
  return new LoginRequiredError(
    `The stored login of "${envName}" was made for ${why}.`,
    `Run: tokenctl login -e ${envName}`,
  )
}

/** True when the env's requests (and its secrets) go to another server, endpoint origin or client than `before`'s. */
export function serverOrClientChanged(before: Binding, after: Binding): boolean {
  return bindingMismatch({ ...before, user: undefined }, { ...after, user: undefined }) !== undefined
}

/** A binding as read from a store: the shape checked before anything of it is believed. */
export function isBinding(value: unknown): value is Binding {
  if (!isObject(value)) return false
  const binding = value
  if (binding.protocol !== 'api' && binding.protocol !== 'oauth2') return false
  if (typeof binding.server !== 'string') return false
  if (
    binding.endpoints !== undefined &&
    !(Array.isArray(binding.endpoints) && binding.endpoints.every((origin) => typeof origin === 'string'))
  )
    return false
  return ['clientId', 'user'].every((key) => binding[key] === undefined || typeof binding[key] === 'string')
}

/**
 * 8 hex digits of 32-bit FNV-1a over the binding (and the variable refresh token of a job
 * that names no user): a name for a file, not a secret or a defence. It is in file and lock
 * names, and the keychain's entry name. Putting a refresh token into it gives nothing away:
 * 32 bits of a hash cannot be turned back into a token of far more entropy, nor help guess
 * one (a server takes no 2^32 guesses), and the names are in the user's own private dirs
 * and store. Endpoints are left out: an env made from variables keeps none.
 */
export function fingerprint(binding: Binding, refreshToken?: string): string {
  const parts: unknown[] = [binding.protocol, binding.server, binding.clientId ?? null, binding.user ?? null]
  // Appended only when there is one, so that every other job keeps the key it had.
  if (refreshToken !== undefined) parts.push({ refreshToken })
  const text = JSON.stringify(parts)
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/**
 * api: the URL; oauth2: the issuer, else the token endpoint. Written the way URL writes
 * it, without a trailing "/", so that `https://A.example/` and `https://a.example` are
 * one server and a re-added env with the same URL keeps its login.
 */
function serverOf(env: Env): string {
  const raw = (env.protocol === 'api' ? env.url : (env.issuer ?? env.tokenUrl)) ?? ''
  try {
    return new URL(raw).href.replace(/\/+$/, '')
  } catch {
    return raw
  }
}

/** The origins of the endpoints that receive secrets, as URL writes them; text that is no URL stands for itself. */
function secretEndpoints(env: Env): string[] {
  const urls = [env.tokenUrl, env.revokeUrl, env.deviceUrl].filter((url): url is string => Boolean(url))
  return [...new Set(urls.map(originOf))].sort()
}

function originOf(url: string): string {
  try {
    const { origin } = new URL(url)
    return origin === 'null' ? url : origin
  } catch {
    return url
  }
}

function quoted(value: string | undefined): string {
  return value === undefined ? '(none)' : `"${printable(value)}"`
}

/**
 * The fast path of bin/run.js, with Node's built-ins and the core's own modules alone — no
 * oclif, no conf, no got: `token` and `git-credential get` served from a still-valid cached
 * access token, and `status` and `env list` (fast/status.ts). Anything it is not sure about
 * (an unusual flag, a stale token, any error) returns false, and the full CLI runs as if
 * this did not exist; the freshness rule, env selection, store choice, output formats and
 * views are the same modules the full path uses, so both print the same bytes for the same
 * state (test/e2e/fast-path.test.ts runs the same cases both ways).
 *
 * A stale token is the full path's to refresh, but the wait for another process that is
 * refreshing it happens here: the lock is taken here and, when the token is still stale,
 * handed over to the full CLI in this process (lock.ts handOverLock). A crowd of 50 then
 * costs one oclif start and one refresh, and 49 cache hits.
 *
 * bin/run.js puts the stderr redaction in place (guardStderr) before either path runs, and
 * the secrets this path reads from a cache are remembered where the full path will find
 * them, so both redact alike.
 */

import { writeStdout } from './cli/fd-output.js'
import { keepStdin, readStdinUpTo } from './cli/stdin.js'
export { guardStderr } from './cli/stderr.js'
import { shouldWarnAboutFailures } from './core/audit.js'
import { type Binding, bindingMismatch, envBinding, matchingEntry, storeKey } from './base/binding.js'
import { readConfigFile } from './core/config-file.js'
import { selectEnv } from './core/env-select.js'
import { clusterRefusal } from './core/kube-cluster.js'
import type { Env } from './base/env-settings.js'
import { DEFAULT_MIN_TTL_MS, heldToken, isFresh, type TokenKind } from './base/freshness.js'
import { acquireLock, envLockNotices, handOverLock } from './base/lock.js'
import { DEFAULT_GIT_USER, isOurHost, isOurUser } from './core/git-hosts.js'
import { accessCacheDir, configDir, configFile, type Environ, lockDir } from './base/paths.js'
import { checkVariableServer } from './base/url-policy.js'
import { formatToken, isShellVariable, type TokenFormat } from './integrations/formats.js'
import { formatCredentialAnswer, MAX_INPUT, parseCredentialRequest } from './integrations/git-credential.js'
import { EXEC_INFO_VARIABLE, formatExecCredential, parseExecInfo } from './integrations/kube-credential.js'
import { AccessCache } from './stores/access-cache.js'
import { FileStore } from './stores/file-store.js'
import { chooseStoreKind } from './stores/open.js'
import { parseDuration } from './util/duration.js'
import { type Flags, parseFlags, stringFlag } from './fast/argv.js'

/** True when the command was served here; false hands it to the full CLI. */
export async function fastPath(argv: string[], environ: Environ = process.env): Promise<boolean> {
  if (environ.TOKENCTL_FAST_PATH === '0' || environ.TOKENCTL_DEBUG === '1') return false
  try {
    if (argv[0] === 'token') return await serveToken(argv.slice(1), environ)
    if (argv[0] === 'git-credential' && argv[1] === 'get') return await serveGitCredential(argv.slice(2), environ)
    if (argv[0] === 'kube-credential') return await serveKubeCredential(argv.slice(1), environ)
    // Loaded only for these two: their views need colour, which a token never does.
    if (argv[0] === 'status') return await (await import('./fast/status.js')).serveStatus(argv.slice(1), environ)
    if (argv[0] === 'env' && argv[1] === 'list')
      return await (await import('./fast/status.js')).serveEnvList(argv.slice(2), environ)
  } catch {
    // Whatever went wrong, the full path will say it properly.
  }
  return false
}

async function serveToken(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, 'token')
  if (!flags) return false
  const format = (flags.get('format') ?? 'token') as TokenFormat
  const minTtl = parseDuration(String(flags.get('min-ttl') ?? '5m'))
  const variable = String(flags.get('var') ?? 'TOKENCTL_TOKEN')
  if (minTtl === undefined || !isShellVariable(variable)) return false
  const env = envFor(flags, environ)
  if (!env || mustWarn(env, flags, environ)) return false
  const cached = await freshAccess(env, flags, environ, minTtl)
  if (!cached) return false
  writeStdout(
    formatToken(format, {
      env: env.name,
      accessToken: cached.accessToken,
      accessExpiresAt: cached.accessExpiresAt,
      variable,
    }),
  )
  return true
}

async function serveGitCredential(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, 'git-credential')
  if (!flags) return false
  const input = await readStdinUpTo(MAX_INPUT)
  keepStdin(input ?? Buffer.alloc(MAX_INPUT + 1))
  const request = input && parseCredentialRequest(input)
  const env = envFor(flags, environ)
  if (!request || !env || !isOurHost(env, request) || mustWarn(env, flags, environ)) return false
  const cached = await freshAccess(env, flags, environ, DEFAULT_MIN_TTL_MS)
  if (!cached) return false
  const username = cached.user ?? env.username ?? DEFAULT_GIT_USER
  if (!isOurUser(request, [username, env.username, DEFAULT_GIT_USER])) return false
  writeStdout(
    formatCredentialAnswer(request, { username, token: cached.accessToken, expiresAt: cached.accessExpiresAt }),
  )
  return true
}

/** kubectl's exec plugin (docs/design.md#kubectl): a request it cannot answer throws, and the full path says why. */
async function serveKubeCredential(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, 'kube-credential')
  if (!flags) return false
  const minTtl = parseDuration(String(flags.get('min-ttl') ?? '5m'))
  if (minTtl === undefined) return false
  const info = parseExecInfo(environ[EXEC_INFO_VARIABLE])
  const env = envFor(flags, environ)
  // A cluster not of the env's hosts: the full path refuses it, in its own words.
  if (!env || clusterRefusal(env, info) || mustWarn(env, flags, environ)) return false
  if (!flags.has('id-token')) {
    const cached = await freshAccess(env, flags, environ, minTtl)
    if (!cached) return false
    writeStdout(formatExecCredential(info.apiVersion, { token: cached.accessToken, expiresAt: cached.accessExpiresAt }))
    return true
  }
  // Only an oauth2 env has an ID token; the full path says so (exit 2).
  if (env.protocol !== 'oauth2') return false
  const cached = await freshAccess(env, flags, environ, minTtl, 'id')
  if (!cached?.idToken || cached.idExpiresAt === undefined) return false
  writeStdout(formatExecCredential(info.apiVersion, { token: cached.idToken, expiresAt: cached.idExpiresAt }))
  return true
}

/** Rare (a wait of seconds for another process), so the voice and its colours are loaded only then. */
async function warn(message: string, flags: Flags, environ: Environ): Promise<void> {
  const { Voice } = await import('./cli/voice.js')
  new Voice(() => flags.has('quiet'), environ).warning(message)
}

/**
 * The failed-attempts warning (docs/design.md#audit-log) is the full path's to print (one wording, one
 * colour rule), so a cache hit for an env with recent rejections goes there; it is rare,
 * and the check is one stat of the audit log in the common case.
 */
function mustWarn(env: Env, flags: Flags, environ: Environ): boolean {
  return !flags.has('quiet') && shouldWarnAboutFailures(environ, env.name)
}

function envFor(flags: Flags, environ: Environ): Env | undefined {
  const config = readConfigFile(configFile(environ))
  const env = selectEnv(stringFlag(flags, 'env'), config, environ)
  // The full path refuses a plain-http TOKENCTL_URL or TOKENCTL_ISSUER before anything else; so must this.
  checkVariableServer(env)
  return env
}

type Cached = { accessToken: string; accessExpiresAt: number; idToken?: string; idExpiresAt?: number; user?: string }

/**
 * A cached entry whose token (the access token, or the ID token for `id`) outlives minTtl.
 * When there is none, another process may be getting one: wait for the env's lock, saying
 * so as the full path would after a while, and look again. Still none: the lock goes to
 * the full path, whose turn it is to refresh.
 */
async function freshAccess(
  env: Env,
  flags: Flags,
  environ: Environ,
  minTtlMs: number,
  kind: TokenKind = 'access',
): Promise<Cached | undefined> {
  const fresh = (cached: Cached | undefined) =>
    cached && isFresh(...heldToken(cached, kind), minTtlMs) ? cached : undefined
  // The same key and binding as the session's (context.ts): another env's token is never a hit.
  const binding = envBinding(env, environ)
  const key = storeKey(env, environ, binding)
  const askedAt = Date.now()
  const cached = fresh(await cachedAccess(key, binding, flags, environ))
  if (cached) return cached
  const dir = lockDir(environ)
  const release = await acquireLock(
    dir,
    key,
    envLockNotices(env.name, (message) => void warn(message, flags, environ)),
  )
  let again: Cached | undefined
  try {
    again = fresh(await cachedAccess(key, binding, flags, environ))
  } finally {
    if (again) release()
    else handOverLock(dir, key, release, askedAt)
  }
  return again
}

/**
 * The same place the full path looks first, judged by the same rules: the access cache
 * beside the keychain, or the file store; an entry issued for another server, client or
 * user is a miss, and the full path says why.
 */
async function cachedAccess(
  key: string,
  binding: Binding,
  flags: Flags,
  environ: Environ,
): Promise<Cached | undefined> {
  const kind = chooseStoreKind(stringFlag(flags, 'store'), environ)
  if (kind === 'keychain') return matchingEntry(new AccessCache(accessCacheDir(environ)).get(key), binding)
  const record = await new FileStore(configDir(environ)).get(key)
  if (
    !record?.accessToken ||
    record.accessExpiresAt === undefined ||
    bindingMismatch(record.binding, binding) !== undefined
  )
    return undefined
  const { accessToken, accessExpiresAt, idToken, idExpiresAt, user } = record
  return { accessToken, accessExpiresAt, idToken, idExpiresAt, user }
}

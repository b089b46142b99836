/**
 * The fast path of bin/run.js: `token` and `git-credential get` served from a still-valid
 * cached access token with Node's built-ins and the core's pure modules alone — no oclif,
 * no conf, no got, no keychain binding. Anything it is not sure about (an unusual flag, a
 * stale token, any error) returns false, and the full CLI runs as if this did not exist;
 * the freshness rule, env selection, store choice and output formats are the same modules
 * the full path uses, so both print the same bytes for the same state.
 *
 * It writes nothing to stderr: anything worth saying is the full path's to say. bin/run.js
 * puts the stderr redaction in place (guardStderr) before either path runs, and the secrets
 * this path reads from a cache are remembered where the full path will find them, so both
 * redact alike.
 */
import path from 'node:path'

import { keepStdin, readStdinUpTo } from './cli/stdin.js'
export { guardStderr } from './cli/stderr.js'
import { shouldWarnAboutFailures } from './core/audit.js'
import { readConfigFile } from './core/config-file.js'
import { selectEnv } from './core/env-select.js'
import type { Env } from './core/env-settings.js'
import { DEFAULT_MIN_TTL_MS, isFresh } from './core/freshness.js'
import { DEFAULT_GIT_USER, isOurHost, isOurUser } from './core/git-hosts.js'
import { configDir, configFile, type Environ, runtimeDir } from './core/paths.js'
import { checkServerUrl } from './core/url-policy.js'
import { formatToken, isShellVariable, TOKEN_FORMATS, type TokenFormat } from './integrations/formats.js'
import { formatCredentialAnswer, MAX_INPUT, parseCredentialRequest } from './integrations/git-credential.js'
import { AccessCache } from './stores/access-cache.js'
import { FileStore } from './stores/file-store.js'
import { chooseStoreKind } from './stores/open.js'
import { parseDuration } from './util/duration.js'

type Flags = Map<string, string | true>

const VALUE_FLAGS: Record<string, string> = { '-e': 'env', '--env': 'env', '-f': 'format', '--format': 'format', '--min-ttl': 'min-ttl', '--var': 'var', '--store': 'store' }
const BOOLEAN_FLAGS: Record<string, string> = { '-q': 'quiet', '--quiet': 'quiet', '--no-input': 'no-input' }

/** True when the command was served here; false hands it to the full CLI. */
export async function fastPath(argv: string[], environ: Environ = process.env): Promise<boolean> {
  if (environ.TOKENCTL_FAST_PATH === '0' || environ.TOKENCTL_DEBUG === '1') return false
  try {
    if (argv[0] === 'token') return await serveToken(argv.slice(1), environ)
    if (argv[0] === 'git-credential' && argv[1] === 'get') return await serveGitCredential(argv.slice(2), environ)
  } catch {
    // Whatever went wrong, the full path will say it properly.
  }
  return false
}

async function serveToken(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, ['env', 'format', 'min-ttl', 'var', 'store', 'quiet', 'no-input'])
  if (!flags) return false
  const format = (flags.get('format') ?? 'token') as TokenFormat
  const minTtl = parseDuration(String(flags.get('min-ttl') ?? '5m'))
  const variable = String(flags.get('var') ?? 'TOKENCTL_TOKEN')
  if (!TOKEN_FORMATS.includes(format) || minTtl === undefined || !isShellVariable(variable)) return false
  const env = envFor(flags, environ)
  if (!env || mustWarn(env, flags, environ)) return false
  const cached = await cachedAccess(env, flags, environ)
  if (!cached || !isFresh(cached.accessToken, cached.accessExpiresAt, minTtl)) return false
  process.stdout.write(formatToken(format, { env: env.name, accessToken: cached.accessToken, accessExpiresAt: cached.accessExpiresAt, variable }))
  return true
}

async function serveGitCredential(args: string[], environ: Environ): Promise<boolean> {
  const flags = parseFlags(args, ['env', 'store', 'quiet', 'no-input'])
  if (!flags) return false
  const input = await readStdinUpTo(MAX_INPUT)
  keepStdin(input ?? Buffer.alloc(MAX_INPUT + 1))
  const request = input && parseCredentialRequest(input)
  const env = envFor(flags, environ)
  if (!request || !env || !isOurHost(env, request) || mustWarn(env, flags, environ)) return false
  const cached = await cachedAccess(env, flags, environ)
  if (!cached || !isFresh(cached.accessToken, cached.accessExpiresAt, DEFAULT_MIN_TTL_MS)) return false
  const username = cached.user ?? env.username ?? DEFAULT_GIT_USER
  if (!isOurUser(request, [username, env.username, DEFAULT_GIT_USER])) return false
  process.stdout.write(formatCredentialAnswer(request, { username, token: cached.accessToken, expiresAt: cached.accessExpiresAt }))
  return true
}

/**
 * The failed-attempts warning of SPEC §8 is the full path's to print (one wording, one
 * colour rule), so a cache hit for an env with recent rejections goes there; it is rare,
 * and the check is one stat of the audit log in the common case.
 */
function mustWarn(env: Env, flags: Flags, environ: Environ): boolean {
  return !flags.has('quiet') && shouldWarnAboutFailures(environ, env.name)
}

/** The flags as oclif would read them, or undefined for anything else (help, typos, repeats). */
function parseFlags(args: string[], allowed: string[]): Flags | undefined {
  const flags: Flags = new Map()
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!
    const eq = word.startsWith('--') ? word.indexOf('=') : -1
    const spelled = eq > 0 ? word.slice(0, eq) : word
    const name = VALUE_FLAGS[spelled] ?? BOOLEAN_FLAGS[spelled]
    if (!name || !allowed.includes(name) || flags.has(name)) return undefined
    if (BOOLEAN_FLAGS[spelled]) {
      if (eq > 0) return undefined
      flags.set(name, true)
      continue
    }
    const value = eq > 0 ? word.slice(eq + 1) : args[++i]
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined
    flags.set(name, value)
  }
  const store = flags.get('store')
  if (store !== undefined && store !== 'keychain' && store !== 'file') return undefined
  return flags
}

function envFor(flags: Flags, environ: Environ): Env | undefined {
  const config = readConfigFile(configFile(environ))
  const env = selectEnv(flags.get('env') as string | undefined, config, environ)
  // The full path refuses a plain-http TOKENCTL_URL before anything else; so must this.
  if (env.fromVariables && env.protocol === 'api') checkServerUrl(env.url ?? '', 'TOKENCTL_URL', env.allowHttp)
  return env
}

/** The same place the full path looks first: the access cache beside the keychain, or the file store. */
async function cachedAccess(env: Env, flags: Flags, environ: Environ): Promise<{ accessToken: string; accessExpiresAt: number; user?: string } | undefined> {
  const kind = chooseStoreKind(flags.get('store') as string | undefined, environ)
  if (kind === 'keychain') return new AccessCache(path.join(runtimeDir(environ), 'access')).get(env.name)
  const record = await new FileStore(configDir(environ)).get(env.name)
  if (!record?.accessToken || record.accessExpiresAt === undefined) return undefined
  return { accessToken: record.accessToken, accessExpiresAt: record.accessExpiresAt, user: record.user }
}

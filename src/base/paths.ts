import { currentPlatform, pathsOf, type Platform, variable } from './platform.js'

export type Environ = Readonly<Record<string, string | undefined>>

/**
 * Every function here takes the variables first (as its callers always have) and the
 * platform second, made from those variables unless given: tests pass made-up win32 facts.
 *
 * On win32 the XDG_* variables are not read. Windows programs do not honour them, and the
 * shells that set them there (Git Bash, MSYS2, Cygwin) set them for their own windows only:
 * tokenctl started from cmd, PowerShell, an IDE or git's credential helper would find
 * other dirs, and locks only work when every caller of one user finds the same ones.
 * TOKENCTL_CONFIG_DIR, which names tokenctl, is honoured everywhere
 * (docs/design.md#where-things-are-kept).
 */

/**
 * A Windows profile folder: `%APPDATA%` (Roaming) or `%LOCALAPPDATA%` (Local), else the
 * folder of that name in the profile. A relative value is no profile folder (it would put
 * the files in whatever dir tokenctl was started in) and is passed over too.
 */
function windowsAppData(platform: Platform, variableName: string, fallback: string): string {
  const paths = pathsOf(platform)
  const value = variable(platform, variableName)
  if (value && paths.isAbsolute(value)) return value
  return paths.join(platform.home, 'AppData', fallback)
}

/**
 * docs/design.md#where-things-are-kept: $TOKENCTL_CONFIG_DIR, else the platform config dir:
 * `%APPDATA%\tokenctl` on Windows (Roaming: the config is the same on every machine a
 * roaming profile reaches), `$XDG_CONFIG_HOME/tokenctl` or `~/.config/tokenctl` elsewhere.
 */
export function configDir(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  const paths = pathsOf(platform)
  if (environ.TOKENCTL_CONFIG_DIR) return paths.resolve(environ.TOKENCTL_CONFIG_DIR)
  if (platform.os === 'win32') return paths.join(windowsAppData(platform, 'APPDATA', 'Roaming'), 'tokenctl')
  const base = environ.XDG_CONFIG_HOME || paths.join(platform.home, '.config')
  return paths.join(base, 'tokenctl')
}

export function configFile(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  return pathsOf(platform).join(configDir(environ, platform), 'config.json')
}

/**
 * Per-user directory for short-lived files (access-token cache, locks, the per-user cache
 * file): `$XDG_RUNTIME_DIR/tokenctl` (logind's private tmpfs), else `run` in the user's own
 * state dir (`$XDG_STATE_HOME/tokenctl/run`, `~/.local/state/tokenctl/run`).
 *
 * Not `tokenctl-<uid>` in the temp dir, as before: a name anyone can predict in a dir
 * anyone can write lets another local user create it first, and then plant records and
 * FIFOs there or move the locks away (two refreshes at once, and a server with reuse
 * detection revokes the login). Refusing such a dir only turns that into a denial of
 * service. Nor `$TMPDIR`: cron, `sudo -u`, SSH and a shell with another TMPDIR would each
 * get their own dir, and locks only work when every caller of one user shares them.
 * The state dir is under the user's home, which only the user (and root) can write, and
 * every caller of one user finds the same one. It is on disk rather than tmpfs, like the
 * file store in the config dir, with the same 0600 files in 0700 dirs.
 *
 * On Windows `%LOCALAPPDATA%\tokenctl\run`: in the profile, which only its user can
 * open, and Local, so that locks and cached access tokens never roam to another machine
 * with a roaming profile. Not `%TEMP%`, for the same reasons as `$TMPDIR`.
 */
export function runtimeDir(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  const paths = pathsOf(platform)
  if (platform.os === 'win32') return paths.join(windowsAppData(platform, 'LOCALAPPDATA', 'Local'), 'tokenctl', 'run')
  if (environ.XDG_RUNTIME_DIR) return paths.join(environ.XDG_RUNTIME_DIR, 'tokenctl')
  return paths.join(stateDir(environ, platform), 'run')
}

/** The access-token cache dir (stores/access-cache.ts), where the session and the fast path look first. */
export function accessCacheDir(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  return pathsOf(platform).join(runtimeDir(environ, platform), 'access')
}

/** Where the per-env locks (docs/design.md#where-things-are-kept) live. */
export function lockDir(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  return pathsOf(platform).join(runtimeDir(environ, platform), 'locks')
}

/**
 * docs/design.md#audit-log: $XDG_STATE_HOME/tokenctl; `%LOCALAPPDATA%\tokenctl\state` on
 * Windows (Local: the audit log is this machine's story, and the runtime dir is its sibling).
 */
export function stateDir(environ: Environ = process.env, platform: Platform = currentPlatform(environ)): string {
  const paths = pathsOf(platform)
  if (platform.os === 'win32') return paths.join(windowsAppData(platform, 'LOCALAPPDATA', 'Local'), 'tokenctl', 'state')
  const base = environ.XDG_STATE_HOME || paths.join(platform.home, '.local', 'state')
  return paths.join(base, 'tokenctl')
}

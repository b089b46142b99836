import os from 'node:os'
import path from 'node:path'

export type Environ = Readonly<Record<string, string | undefined>>

function home(environ: Environ): string {
  return environ.HOME || os.homedir()
}

/** docs/design.md#where-things-are-kept: $TOKENCTL_CONFIG_DIR, else the platform config dir. */
export function configDir(environ: Environ = process.env): string {
  if (environ.TOKENCTL_CONFIG_DIR) return path.resolve(environ.TOKENCTL_CONFIG_DIR)
  if (process.platform === 'win32' && environ.APPDATA) return path.join(environ.APPDATA, 'tokenctl')
  const base = environ.XDG_CONFIG_HOME || path.join(home(environ), '.config')
  return path.join(base, 'tokenctl')
}

export function configFile(environ: Environ = process.env): string {
  return path.join(configDir(environ), 'config.json')
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
 */
export function runtimeDir(environ: Environ = process.env): string {
  if (environ.XDG_RUNTIME_DIR) return path.join(environ.XDG_RUNTIME_DIR, 'tokenctl')
  return path.join(stateDir(environ), 'run')
}

/** Where the per-env locks (docs/design.md#where-things-are-kept) live. */
export function lockDir(environ: Environ = process.env): string {
  return path.join(runtimeDir(environ), 'locks')
}

/** docs/design.md#audit-log: $XDG_STATE_HOME/tokenctl. */
export function stateDir(environ: Environ = process.env): string {
  const base = environ.XDG_STATE_HOME || path.join(home(environ), '.local', 'state')
  return path.join(base, 'tokenctl')
}

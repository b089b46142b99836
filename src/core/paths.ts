import os from 'node:os'
import path from 'node:path'

export type Environ = Readonly<Record<string, string | undefined>>

function home(environ: Environ): string {
  return environ.HOME || os.homedir()
}

/** SPEC §5: $TOKENCTL_CONFIG_DIR, else the platform config dir. */
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
 * Per-user directory for short-lived files (access-token cache, locks):
 * $XDG_RUNTIME_DIR/tokenctl, else `tokenctl-<uid>` in the OS temp dir.
 * The uid in the name keeps users apart; `ensurePrivateDir` refuses one someone else owns.
 */
export function runtimeDir(environ: Environ = process.env): string {
  if (environ.XDG_RUNTIME_DIR) return path.join(environ.XDG_RUNTIME_DIR, 'tokenctl')
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username
  return path.join(os.tmpdir(), `tokenctl-${uid}`)
}

/** Where the per-env locks of SPEC §5 live. */
export function lockDir(environ: Environ = process.env): string {
  return path.join(runtimeDir(environ), 'locks')
}

/** SPEC §8: $XDG_STATE_HOME/tokenctl. */
export function stateDir(environ: Environ = process.env): string {
  const base = environ.XDG_STATE_HOME || path.join(home(environ), '.local', 'state')
  return path.join(base, 'tokenctl')
}

import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'

import type { Environ } from './paths.js'

/**
 * What tokenctl asks of the machine it runs on, in one place. Code with a win32 or darwin
 * branch takes a `Platform` instead of reading `process.platform`, `process.env` or `os`
 * itself, so that every branch runs in the tests on Linux with facts a test made up
 * (docs/architecture.md#platforms).
 */
export interface Platform {
  /** `process.platform`: 'linux', 'darwin', 'win32'… */
  readonly os: NodeJS.Platform
  /** The effective uid; undefined where there are no uids (Windows). */
  readonly uid: number | undefined
  /** The user's home (profile) dir. */
  readonly home: string
  /** The temp dir. */
  readonly tmp: string
  /** The Node binary running tokenctl. */
  readonly execPath: string
  /** The variables tokenctl reads (HOME, APPDATA, PATH, PATHEXT, SSH_CONNECTION…). */
  readonly environ: Environ
  /** Whether stderr is a terminal a person may be reading. */
  readonly stderrIsTTY: boolean
}

// `node:tty` loads `net`: a cache hit that never asks must not pay for it (docs/benchmarks.md).
const load = createRequire(import.meta.url)

/** The facts of the running process; whether stderr is a terminal is asked only when read. */
export function currentPlatform(environ: Environ = process.env): Platform {
  const uid =
    typeof process.geteuid === 'function'
      ? process.geteuid()
      : typeof process.getuid === 'function'
        ? process.getuid()
        : undefined
  return {
    os: process.platform,
    uid,
    home: environ.HOME || os.homedir(),
    get tmp() {
      return os.tmpdir()
    },
    execPath: process.execPath,
    environ,
    get stderrIsTTY() {
      return (load('node:tty') as typeof import('node:tty')).isatty(2)
    },
  }
}

/** The path functions of the platform's own kind: win32 paths are built with `path.win32` even on Linux. */
export function pathsOf(platform: Pick<Platform, 'os'>): path.PlatformPath {
  return platform.os === 'win32' ? path.win32 : path.posix
}

/** A variable's value; on Windows variable names are caseless (`Path`, `PATHEXT`). */
export function variable(platform: Pick<Platform, 'os' | 'environ'>, name: string): string | undefined {
  const value = platform.environ[name]
  if (value !== undefined || platform.os !== 'win32') return value
  const upper = name.toUpperCase()
  const key = Object.keys(platform.environ).find((candidate) => candidate.toUpperCase() === upper)
  return key === undefined ? undefined : platform.environ[key]
}

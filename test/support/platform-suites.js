// The suites that need what only some operating systems have, and why. jest.config.js leaves
// them out elsewhere (CI runs on macOS and Windows too) and says so loudly, at the start and at
// the end of the run, so that nobody takes a green run there for one that ran them. On Linux
// every suite runs, as before: CI on Linux installs all they need.

/** What a suite may need, and the operating systems (process.platform) that have it. */
export const NEEDS = {
  'secret-service': {
    on: ['linux'],
    why: 'gnome-keyring on a private D-Bus session, or a D-Bus socket that never answers (test/support/keyring.ts)',
  },
  pty: { on: ['linux'], why: 'util-linux `script -qfec` for a real terminal (test/support/terminal.ts)' },
  setpriv: { on: ['linux'], why: '`setpriv` to run a command as another user' },
  proc: { on: ['linux'], why: "/proc to read a process's argv and environment as others see them" },
  'posix-modes': {
    on: ['linux', 'darwin'],
    why: 'owner-only file modes (0600, 0700) set and checked with chmod and stat',
  },
  'posix-shell': { on: ['linux', 'darwin'], why: '`#!/bin/sh` stand-ins for programs, or `sh -c` / `bash -c` scripts' },
  'posix-signals': { on: ['linux', 'darwin'], why: 'SIGINT to a running process, which Windows cannot deliver' },
}

/** Each suite (path from the repository root, with /) that needs something of NEEDS. */
export const SUITES = {
  'test/e2e/keychain.test.ts': ['secret-service'],
  'test/e2e/keychain-lifecycle.test.ts': ['secret-service'],
  'test/e2e/trust-bindings.test.ts': ['secret-service'],
  'test/e2e/fast-path-views.test.ts': ['secret-service'],
  'test/integration/keychain-store.test.ts': ['secret-service'],
  'test/e2e/faults.test.ts': ['secret-service', 'setpriv', 'pty', 'posix-modes'],
  'test/e2e/prompt.test.ts': ['secret-service', 'pty'],
  'test/e2e/oauth2-client-credentials.test.ts': ['pty'],
  'test/e2e/exec.test.ts': ['pty', 'proc', 'posix-shell', 'posix-signals'],
  'test/e2e/trust-private-dirs.test.ts': ['setpriv', 'pty', 'posix-modes', 'posix-shell'],
  'test/e2e/leak.test.ts': ['proc'],
  'test/e2e/curl.test.ts': ['proc', 'posix-shell'],
  'test/e2e/audit.test.ts': ['posix-modes'],
  'test/e2e/ci-mode.test.ts': ['posix-modes'],
  'test/e2e/lifecycle.test.ts': ['posix-modes'],
  'test/integration/file-store.test.ts': ['posix-modes'],
  'test/e2e/child-environment.test.ts': ['posix-shell'],
  'test/e2e/completion.test.ts': ['posix-shell'],
  'test/e2e/git.test.ts': ['posix-shell'],
  'test/e2e/install.test.ts': ['posix-shell'],
  'test/e2e/setup-git.test.ts': ['posix-shell'],
  'test/e2e/setup-docker.test.ts': ['posix-modes'],
  'test/unit/properties.test.ts': ['posix-shell'],
  'test/e2e/oauth2-browser.test.ts': ['posix-shell', 'posix-signals'],
  'test/e2e/trust-oauth2-provider.test.ts': ['posix-shell', 'posix-signals'],
  'test/e2e/oauth2-device.test.ts': ['posix-signals'],
  'test/e2e/sink.test.ts': ['setpriv', 'posix-modes', 'posix-shell', 'posix-signals'],
  'test/e2e/keep-fresh-exec.test.ts': ['posix-modes', 'posix-shell', 'posix-signals'],
}

/** The suites that cannot run on `platform`, each with what it lacks there. */
export function suitesLeftOut(platform) {
  return Object.entries(SUITES)
    .map(([suite, needs]) => ({ suite, lacks: needs.filter((need) => !NEEDS[need].on.includes(platform)) }))
    .filter(({ lacks }) => lacks.length > 0)
}

/** A testPathIgnorePatterns entry for `suite`: jest matches it against the absolute path, with \ on Windows. */
export function ignorePattern(suite) {
  return `[\\\\/]${suite
    .split('/')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\\\/]')}$`
}

/** The notice printed before and after a run that left suites out. */
export function leftOutNotice(platform, leftOut = suitesLeftOut(platform)) {
  if (leftOut.length === 0) return ''
  const lines = leftOut.map(({ suite, lacks }) => `!!!   ${suite}: needs ${lacks.join(', ')}`)
  const needs = [...new Set(leftOut.flatMap(({ lacks }) => lacks))].map((need) => `!!!   ${need}: ${NEEDS[need].why}`)
  return [
    '',
    `!!! NOT RUN on ${platform}: ${leftOut.length} test suites need what only Linux (or a POSIX system) has.`,
    ...lines,
    '!!! where',
    ...needs,
    '!!! They run on Linux (CI on ubuntu-latest runs them all).',
    '',
  ].join('\n')
}

import { createDefaultEsmPreset } from 'ts-jest'

import { ignorePattern, leftOutNotice, suitesLeftOut } from './test/support/platform-suites.js'

// Suites that need what this OS lacks (gnome-keyring, `script`, setpriv, /proc, POSIX modes and
// shells) are left out here, by name, and said so loudly: none on Linux. TOKENCTL_TEST_PLATFORM
// (win32, darwin) shows on Linux what another OS leaves out, e.g. with `--listTests`.
const platform = process.env.TOKENCTL_TEST_PLATFORM || process.platform
const leftOut = suitesLeftOut(platform)
const notice = leftOutNotice(platform, leftOut)
if (notice) process.stderr.write(`${notice}\n`)

/** What every project shares: TypeScript as ES modules, and `.js` imports resolved to the sources. */
const shared = {
  ...createDefaultEsmPreset({ tsconfig: 'tsconfig.json' }),
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', ...leftOut.map(({ suite }) => ignorePattern(suite))],
}

/**
 * One project per kind of test, so that one kind runs alone: `npm run test:unit` runs the
 * in-process suite (no dist/, no subprocess of the CLI) in seconds. `npm test` runs them all.
 * @type {import('jest').Config}
 */
export default {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    // Real parts in-process or beside it: stores, the lock across processes, HTTP, test servers.
    { ...shared, displayName: 'integration', roots: ['<rootDir>/test/integration'] },
    // The built CLI (bin/run.js, dist/) in subprocesses, against test servers and a real keychain.
    { ...shared, displayName: 'e2e', roots: ['<rootDir>/test/e2e'] },
  ],
  // e2e suites spawn real processes and servers; two cores, so keep workers modest.
  maxWorkers: 2,
  testTimeout: 60_000,
  reporters: [
    'default',
    '<rootDir>/test/support/summary-reporter.js',
    ...(notice ? [['<rootDir>/test/support/left-out-reporter.js', { notice }]] : []),
  ],
}

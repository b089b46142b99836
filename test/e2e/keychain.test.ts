/**
 * The built CLI with the default store (the keychain), as a subprocess: against a real
 * gnome-keyring on a private D-Bus session, and against a keychain that cannot be had
 * (a bus that hangs, a bus that is not there). No mocks.
 */
import fs from 'node:fs'

import { KEYCHAIN_SERVICE, KEYCHAIN_TIMEOUT_MS, KeychainStore } from '../../src/stores/keychain-store.js'
import { type RunResult, Sandbox } from '../support/cli.js'
import { eventually, type HangingBus, keyringTest, startHangingBus, useKeyring } from '../support/keyring.js'

let sandbox: Sandbox
beforeEach(() => {
  sandbox = new Sandbox()
})
afterEach(() => sandbox.cleanup())

const readConfig = () => JSON.parse(fs.readFileSync(sandbox.configFile, 'utf8'))

/** Adds envs (config only: `env add` never touches the store); the first becomes current. */
async function addEnvs(...names: string[]): Promise<void> {
  for (const name of names) {
    const result = await sandbox.run([
      'env',
      'add',
      name,
      '--url',
      `https://${name === 'prod' ? 'api' : name}.example.com`,
    ])
    expect(result).toMatchObject({ code: 0, stdout: '' })
  }
}

const withKeyring = keyringTest('tokenctl against gnome-keyring')

describe('tokenctl with a real gnome-keyring (default store)', () => {
  const keyring = useKeyring()

  const lookup = (env: string) => keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', env])

  withKeyring(
    "env list shows the login state from the keychain; env remove deletes that env's entry and no other",
    async () => {
      // prod written by tokenctl's own store, staging by another program: both are ours.
      const store = new KeychainStore(KEYCHAIN_TIMEOUT_MS, KEYCHAIN_SERVICE, { ...process.env, ...keyring()!.env })
      try {
        await store.set('prod', { refreshToken: 'r-prod', user: 'alice' })
      } finally {
        store.close()
      }
      const staging = JSON.stringify({ refreshToken: 'r-staging', user: 'bob' })
      expect(await keyring()!.storeItem('staging', staging)).toBe(0)
      await addEnvs('prod', 'staging', 'dev')

      const list = await sandbox.run(['env', 'list', '--json'], { env: keyring()!.env })
      expect(list).toMatchObject({ code: 0, stderr: '' })
      expect(JSON.parse(list.stdout)).toEqual([
        { name: 'dev', current: false, protocol: 'api', url: 'https://dev.example.com', user: null, loggedIn: false },
        { name: 'prod', current: true, protocol: 'api', url: 'https://api.example.com', user: 'alice', loggedIn: true },
        {
          name: 'staging',
          current: false,
          protocol: 'api',
          url: 'https://staging.example.com',
          user: 'bob',
          loggedIn: true,
        },
      ])

      // --no-revoke: revocation needs a server and is not what this test is about; the
      // keychain entry is deleted either way (docs/design.md#commands `env remove`).
      const removed = await sandbox.run(['env', 'remove', 'prod', '--no-revoke'], { env: keyring()!.env })
      expect(removed).toMatchObject({ code: 0, stdout: '', stderr: 'Removed env "prod" and its secrets.\n' })
      expect(await lookup('prod')).toMatchObject({ code: 1, stdout: '' })
      expect(await lookup('staging')).toMatchObject({ code: 0, stdout: staging })
      expect(Object.keys(readConfig().envs).sort()).toEqual(['dev', 'staging'])

      // An env without an entry is removed all the same, and says so.
      const dev = await sandbox.run(['env', 'remove', 'dev', '--no-revoke'], { env: keyring()!.env })
      expect(dev).toMatchObject({ code: 0, stdout: '', stderr: 'Removed env "dev".\n' })
      expect(await lookup('staging')).toMatchObject({ code: 0, stdout: staging })

      const after = await sandbox.run(['env', 'list', '--json'], { env: keyring()!.env })
      expect(after.code).toBe(0)
      expect(JSON.parse(after.stdout)).toEqual([
        {
          name: 'staging',
          current: false,
          protocol: 'api',
          url: 'https://staging.example.com',
          user: 'bob',
          loggedIn: true,
        },
      ])
    },
  )
})

interface Unreachable {
  address: string
  /** What the error message says in this case. */
  message: string
  bus?: HangingBus
  stop(): Promise<void>
}

describe.each([
  [
    'a keychain that hangs (a bus that accepts and never answers)',
    async (): Promise<Unreachable> => {
      const bus = await startHangingBus()
      return { address: bus.address, message: 'The keychain did not answer within 3 s.', bus, stop: bus.stop }
    },
  ],
  [
    'no keychain (no bus at the address)',
    async (): Promise<Unreachable> => ({
      address: 'unix:path=/nonexistent/tokenctl-test-bus',
      message: 'The keychain cannot be used: ',
      stop: async () => {},
    }),
  ],
])('tokenctl with %s (exit 6 with the hint, never a hang)', (_name, start) => {
  let keychain: Unreachable
  beforeEach(async () => {
    keychain = await start()
    await addEnvs('prod', 'staging')
  })
  afterEach(async () => {
    await keychain.stop()
  })

  const run = (args: string[]): Promise<RunResult> =>
    // The CLI is killed at 30 s; it must finish by itself well before.
    sandbox.run(args, { env: { DBUS_SESSION_BUS_ADDRESS: keychain.address }, timeoutMs: 30_000 })

  /** A hung keychain helper is killed with the CLI's call, not left connected to the bus. */
  async function expectNoHelperLeft(): Promise<void> {
    if (!keychain.bus) return
    expect(keychain.bus.accepted()).toBeGreaterThanOrEqual(1)
    expect(await eventually(() => keychain.bus!.open() === 0)).toBe(true)
  }

  test('env remove exits 6, names --store file, and leaves the env in the config', async () => {
    const before = fs.readFileSync(sandbox.configFile)
    const result = await run(['env', 'remove', 'prod'])
    expect(result.signal).toBeNull()
    expect(result.code).toBe(6)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`Error: ${keychain.message}`)
    expect(result.stderr).toContain('--store file')
    expect(result.ms).toBeLessThan(15_000) // 3 s by docs/design.md#where-things-are-kept; generous for a loaded machine
    expect(fs.readFileSync(sandbox.configFile)).toEqual(before)
    expect(Object.keys(readConfig().envs)).toContain('prod')
    await expectNoHelperLeft()
  })

  test('env list still lists every env (exit 0), login state unknown, with a warning naming --store file', async () => {
    const result = await run(['env', 'list', '--json'])
    expect(result.signal).toBeNull()
    expect(result.code).toBe(0)
    expect(result.ms).toBeLessThan(15_000)
    expect(JSON.parse(result.stdout)).toEqual([
      { name: 'prod', current: true, protocol: 'api', url: 'https://api.example.com', user: null, loggedIn: null },
      {
        name: 'staging',
        current: false,
        protocol: 'api',
        url: 'https://staging.example.com',
        user: null,
        loggedIn: null,
      },
    ])
    expect(result.stderr).toMatch(/^Warning: Login states are unknown: /)
    expect(result.stderr).toContain(keychain.message)
    expect(result.stderr).toContain('--store file')
    await expectNoHelperLeft()
  })

  test('env list as a table shows "?" for the login state', async () => {
    const result = await run(['env', 'list'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\*\s+prod\s+api\s+https:\/\/api\.example\.com\s+-\s+\?\s*$/m)
    expect(result.stdout).toMatch(/^\s+staging\s+api\s+https:\/\/staging\.example\.com\s+-\s+\?\s*$/m)
    expect(result.stderr).toContain('--store file')
  })
})

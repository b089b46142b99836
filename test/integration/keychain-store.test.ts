/**
 * KeychainStore against a real Secret Service: gnome-keyring on a private D-Bus session
 * (test/support/keyring.ts), checked from the outside with `secret-tool`. No mocks.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { StoreUnavailableError } from '../../src/base/errors.js'
import { KEYCHAIN_SERVICE, KEYCHAIN_TIMEOUT_MS, KeychainStore } from '../../src/stores/keychain-store.js'
import type { SecretRecord } from '../../src/stores/types.js'
import { runProcess } from '../support/cli.js'
import {
  eventually,
  type HangingBus,
  type KeyringSession,
  keyringTest,
  startHangingBus,
  useKeyring,
} from '../support/keyring.js'

const stores: KeychainStore[] = []
/** A store whose helper talks to the bus at `address` (process.env does not reach children under jest). */
function storeOn(address: string): KeychainStore {
  const store = new KeychainStore(KEYCHAIN_TIMEOUT_MS, KEYCHAIN_SERVICE, {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: address,
  })
  stores.push(store)
  return store
}
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
})

const prod: SecretRecord = {
  refreshToken: 'r-prod',
  refreshExpiresAt: 4_102_444_800_000,
  accessToken: 'a-prod',
  accessExpiresAt: 1_700_000_000_000,
  user: 'alice',
}
const staging: SecretRecord = { refreshToken: 'r-staging', user: 'bob' }

/** The usernames of every `service=tokenctl` item, as secret-tool sees them (it prints attributes on stderr). */
async function accounts(keyring: KeyringSession): Promise<string[]> {
  const { stderr } = await keyring.secretTool(['search', '--all', 'service', KEYCHAIN_SERVICE])
  return [...stderr.matchAll(/^attribute\.username = (.*)$/gm)].map((match) => match[1]!).sort()
}

const withKeyring = keyringTest('keychain store against gnome-keyring')

describe('keychain store against a real gnome-keyring', () => {
  const keyring = useKeyring()

  withKeyring('set/get/list/delete round trip: one entry per env, service "tokenctl", account = env name', async () => {
    const store = storeOn(keyring()!.address)
    await store.set('prod', prod)
    await store.set('staging', staging)
    expect(await store.get('prod')).toEqual(prod)
    expect(await store.get('staging')).toEqual(staging)
    expect(await store.get('dev')).toBeUndefined()

    // Seen from outside tokenctl: the record as JSON under service=tokenctl username=<env>.
    const lookup = await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', 'prod'])
    expect(lookup.code).toBe(0)
    expect(JSON.parse(lookup.stdout)).toEqual(prod)
    expect(await accounts(keyring()!)).toEqual(['prod', 'staging'])

    // Writing again replaces the entry; it does not add a second one.
    const rotated = { ...prod, refreshToken: 'r-prod-2' }
    await store.set('prod', rotated)
    expect(await accounts(keyring()!)).toEqual(['prod', 'staging'])
    expect(
      JSON.parse((await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', 'prod'])).stdout),
    ).toEqual(rotated)

    expect(await store.list()).toEqual([
      ['prod', rotated],
      ['staging', staging],
    ])

    expect(await store.delete('prod')).toBe(true)
    expect(await store.delete('prod')).toBe(false)
    expect(await store.get('prod')).toBeUndefined()
    expect(await keyring()!.secretTool(['lookup', 'service', 'tokenctl', 'username', 'prod'])).toMatchObject({
      code: 1,
      stdout: '',
    })
    expect(await accounts(keyring()!)).toEqual(['staging'])
    expect(await store.list()).toEqual([['staging', staging]])
  })

  withKeyring(
    'reads entries written by another program; an entry that is not a record is a login required (exit 3) and is left out of the list',
    async () => {
      const ci = { refreshToken: 'r-ci' }
      expect(await keyring()!.storeItem('ci', JSON.stringify(ci))).toBe(0)
      expect(await keyring()!.storeItem('junk', 'not json')).toBe(0)
      expect(await keyring()!.storeItem('prod', '{"refreshToken":"x"}', 'other-app')).toBe(0)

      const store = storeOn(keyring()!.address)
      expect(await store.get('ci')).toEqual(ci)
      await expect(store.get('junk')).rejects.toThrow(
        expect.objectContaining({ exitCode: 3, message: 'The keychain entry of "junk" cannot be used (not JSON).' }),
      )
      // Another service's entry with the same account is not ours.
      expect(await store.get('prod')).toBeUndefined()
      expect(await store.list()).toEqual([['ci', ci]])
      await keyring()!.secretTool(['clear', 'service', 'other-app'])
    },
  )

  withKeyring('a closed store starts a new helper on its next call', async () => {
    const store = storeOn(keyring()!.address)
    await store.set('prod', prod)
    store.close()
    expect(await store.get('prod')).toEqual(prod)
    store.close()
    store.close()
    expect(await store.delete('prod')).toBe(true)
  })
})

describe('keychain store when the Secret Service cannot be reached (exit 6, never a hang)', () => {
  /** The error of docs/design.md#where-things-are-kept: exit 6, and a fix that names `--store file`. */
  async function unavailable(promise: Promise<unknown>, message: RegExp): Promise<StoreUnavailableError> {
    const error = await promise.then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(error).toBeInstanceOf(StoreUnavailableError)
    const failure = error as StoreUnavailableError
    expect(failure.exitCode).toBe(6)
    expect(failure.message).toMatch(message)
    expect(failure.fix).toContain('--store file')
    return failure
  }

  test.each([
    ['get', (store: KeychainStore) => store.get('prod')],
    ['set', (store: KeychainStore) => store.set('prod', prod)],
    ['delete', (store: KeychainStore) => store.delete('prod')],
    ['list', (store: KeychainStore) => store.list()],
  ])('no bus at the address: %s fails at once with StoreUnavailableError', async (_op, call) => {
    const store = storeOn('unix:path=/nonexistent/tokenctl-test-bus')
    // "cannot be used" is the helper's answer, so it came before the 3 s timeout
    // ("did not answer within") could fire.
    await unavailable(call(store), /^The keychain cannot be used: .*nonexistent\/tokenctl-test-bus/)
  })

  describe('a bus that accepts and never answers', () => {
    let bus: HangingBus
    beforeEach(async () => {
      bus = await startHangingBus()
    })
    afterEach(async () => {
      await bus.stop()
    })

    test('a call gives up after the timeout, the helper is killed, and later calls fail at once', async () => {
      const store = storeOn(bus.address)
      const started = Date.now()
      const error = await unavailable(store.get('prod'), /^The keychain did not answer within 3 s\.$/)
      const elapsed = Date.now() - started
      expect(elapsed).toBeLessThan(10_000) // 3 s by docs/design.md#where-things-are-kept; generous for a loaded machine
      expect(bus.accepted()).toBeGreaterThanOrEqual(1) // it really hung on our bus
      // The hung helper is killed, so its connection closes: nothing is left behind.
      expect(await eventually(() => bus.open() === 0)).toBe(true)

      const again = Date.now()
      await expect(store.list()).rejects.toBe(error)
      await expect(store.set('prod', prod)).rejects.toBe(error)
      expect(Date.now() - again).toBeLessThan(1000)
    })
  })
})

const storeSource = fileURLToPath(new URL('../../src/stores/keychain-store.ts', import.meta.url))

/** Runs `body` (TypeScript, top-level await allowed) in a child Node with `address` as its session bus. */
async function inChild(node: string, dir: string, address: string, body: string) {
  const script = path.join(dir, 'child.mts')
  const imports = (file: string) => JSON.stringify(storeSource.replace(/keychain-store\.ts$/, file))
  fs.writeFileSync(
    script,
    `import fs from 'node:fs'
import { chooseTransport, KeychainStore } from ${imports('keychain-store.ts')}
import { ThreadTransport } from ${imports('keychain-thread-transport.ts')}
import { currentPlatform } from ${JSON.stringify(storeSource.replace(/stores[/\\]keychain-store\.ts$/, 'base/platform.ts'))}
${body}
`,
  )
  // Jest's process.env is its own copy; a child's environment is what native code sees.
  const { DBUS_SESSION_BUS_ADDRESS: _, ...environ } = process.env
  return runProcess(node, ['--import', 'tsx', script], {
    env: { ...environ, DBUS_SESSION_BUS_ADDRESS: address },
    cwd: path.dirname(storeSource),
    timeoutMs: 20_000,
  })
}

describe('keychain calls in this process (the transport of Node lines with process.execve)', () => {
  const keyring = useKeyring()
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-thread-'))
  })
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true })
  })

  withKeyring('set/get/list/delete round trip on the threadpool, without a helper process', async () => {
    const result = await inChild(
      process.execPath,
      dir,
      keyring()!.address,
      `void chooseTransport, currentPlatform, fs
const transport = new ThreadTransport('linux', () => {
  throw new Error('execve is only for a hung call')
})
const store = new KeychainStore(3000, 'tokenctl', undefined, { transport })
const seen: unknown[] = []
await store.set('prod', ${JSON.stringify(prod)})
await store.set('staging', ${JSON.stringify(staging)})
seen.push(await store.get('prod'), (await store.get('dev')) ?? null, await store.list())
seen.push(await store.delete('prod'), await store.delete('prod'), await store.list())
process.stdout.write(JSON.stringify(seen))
`,
    )
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual([
      prod,
      null,
      [
        ['prod', prod],
        ['staging', staging],
      ],
      true,
      false,
      [['staging', staging]],
    ])
    expect(await accounts(keyring()!)).toEqual(['staging'])
  })
})

/**
 * The Node that runs the child: this one, or TOKENCTL_TEST_EXECVE_NODE (so a Node 20 run
 * can still check this with a newer binary); undefined when it has no process.execve.
 */
function execveNode(): string | undefined {
  const node = process.env.TOKENCTL_TEST_EXECVE_NODE || process.execPath
  const probe = spawnSync(node, ['-p', 'typeof process.execve'], { encoding: 'utf8' })
  return probe.stdout.trim() === 'function' ? node : undefined
}

const childNode = execveNode()
if (!childNode)
  console.warn(
    `\n!!! SKIPPED: the in-process keychain's exit from a hung call needs process.execve (Node 22.15+); ${process.version} has none.\n` +
      '!!! Set TOKENCTL_TEST_EXECVE_NODE to a newer node binary to run it here.\n',
  )
const withExecve = childNode ? test : test.skip

describe('a hung in-process keychain call: the process still ends, exit 6 within ~3 s', () => {
  let bus: HangingBus
  let dir: string
  beforeEach(async () => {
    bus = await startHangingBus()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-hung-'))
  })
  afterEach(async () => {
    await bus.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  withExecve.each([
    ['when nothing else is left to do', 'process.exitCode = 6'],
    ['when the program calls process.exit(6)', 'process.exit(6)'],
  ])('%s; exit listeners (lock releases) still run', async (_name, end) => {
    const result = await inChild(
      childNode!,
      dir,
      bus.address,
      `void ThreadTransport
process.stdout.write(chooseTransport(currentPlatform(), undefined).constructor.name + '\\n')
new KeychainStore().get('prod').then(
  () => process.stdout.write('answered\\n'),
  (error) => {
    process.stderr.write(error.message + '\\n')
    // Added after the call was abandoned (after the store's own exit listener): it runs too.
    process.once('exit', (code) => fs.writeFileSync(${JSON.stringify(path.join(dir, 'released'))}, String(code)))
    ${end}
  },
)
`,
    )
    expect(result.stdout).toBe('ThreadTransport\n')
    expect(result.stderr).toBe('The keychain did not answer within 3 s.\n')
    expect(result).toMatchObject({ code: 6, signal: null })
    expect(result.ms).toBeLessThan(10_000) // 3 s and a Node start; generous for a loaded machine
    expect(bus.accepted()).toBeGreaterThanOrEqual(1) // it really hung on our bus
    expect(fs.readFileSync(path.join(dir, 'released'), 'utf8')).toBe('6')
  })
})

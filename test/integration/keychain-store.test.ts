/**
 * KeychainStore against a real Secret Service: gnome-keyring on a private D-Bus session
 * (test/support/keyring.ts), checked from the outside with `secret-tool`. No mocks.
 */
import { StoreUnavailableError } from '../../src/base/errors.js'
import { KEYCHAIN_SERVICE, KEYCHAIN_TIMEOUT_MS, KeychainStore } from '../../src/stores/keychain-store.js'
import type { SecretRecord } from '../../src/stores/types.js'
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

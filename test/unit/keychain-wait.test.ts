/**
 * How long KeychainStore waits and what it says, per OS, with made-up platform facts and
 * fake keychains (our own KeychainTransport interface): macOS may be showing a person its
 * Keychain dialog, and then the store waits for them; with no one to ask, it gives up
 * within 3 s with a hint for the OS at hand.
 */
import { StoreUnavailableError } from '../../src/base/errors.js'
import type { Platform } from '../../src/base/platform.js'
import { personCanBeAsked } from '../../src/stores/keychain-policy.js'
import { KEYCHAIN_SERVICE, KEYCHAIN_TIMEOUT_MS, KeychainStore } from '../../src/stores/keychain-store.js'
import {
  KeychainBroken,
  KeychainRefusal,
  type KeychainRequest,
  type KeychainTransport,
} from '../../src/stores/keychain-transport.js'

const record = { refreshToken: 'r-prod', user: 'alice' }

function facts(os: NodeJS.Platform, environ: Record<string, string> = {}, stderrIsTTY = true): Platform {
  return { os, uid: 501, home: '/Users/alice', tmp: '/tmp', execPath: '/opt/node-26/bin/node', environ, stderrIsTTY }
}

/** A keychain that answers every call after `delayMs` (the time a person takes to click), or as `answer` says. */
class SlowKeychain implements KeychainTransport {
  abandoned = 0
  calls: KeychainRequest[] = []
  constructor(
    private readonly delayMs: number,
    private readonly answer: (request: KeychainRequest) => unknown = () => JSON.stringify(record),
  ) {}
  call(request: KeychainRequest): Promise<unknown> {
    this.calls.push(request)
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(this.answer(request))
        } catch (error) {
          reject(error as Error)
        }
      }, this.delayMs).unref(),
    )
  }
  abandon(): void {
    this.abandoned++
  }
  close(): void {}
}

function storeWith(platform: Platform, transport: KeychainTransport, notices: string[]): KeychainStore {
  return new KeychainStore(KEYCHAIN_TIMEOUT_MS, KEYCHAIN_SERVICE, undefined, {
    platform,
    transport,
    notice: (line) => notices.push(line),
  })
}

async function failure(promise: Promise<unknown>): Promise<StoreUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(StoreUnavailableError)
  expect((error as StoreUnavailableError).exitCode).toBe(6)
  return error as StoreUnavailableError
}

const UNLOCK =
  'Run: security unlock-keychain ~/Library/Keychains/login.keychain-db, or keep tokens in a file with --store file.'

describe('macOS: a keychain that answers after 10 s', () => {
  test('with a person at a terminal: says once that macOS is asking, waits, and gets the record', async () => {
    const notices: string[] = []
    const keychain = new SlowKeychain(10_000)
    const store = storeWith(facts('darwin', { TERM_PROGRAM: 'Apple_Terminal' }), keychain, notices)
    const started = Date.now()
    const [first, second] = await Promise.all([store.get('prod'), store.get('staging')])
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900)
    expect(first).toEqual(record)
    expect(second).toEqual(record)
    expect(notices).toEqual([
      'macOS is asking for permission to use the Keychain for this Node binary (/opt/node-26/bin/node); choose "Always Allow" and it stops asking. Waiting up to 60 s…\n',
    ])
    expect(keychain.abandoned).toBe(0)
  }, 30_000)

  test('over SSH (no one at the screen the dialog shows on): exit 6 within 3 s with the unlock-keychain hint', async () => {
    const notices: string[] = []
    const keychain = new SlowKeychain(10_000)
    const store = storeWith(
      facts('darwin', { TERM_PROGRAM: 'iTerm.app', SSH_CONNECTION: '10.0.0.2 51000 10.0.0.1 22' }),
      keychain,
      notices,
    )
    const started = Date.now()
    const error = await failure(store.get('prod'))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(2_900)
    expect(elapsed).toBeLessThan(5_000)
    expect(error.message).toBe('The keychain did not answer within 3 s.')
    expect(error.fix).toBe(UNLOCK)
    expect(notices).toEqual([])
    expect(keychain.abandoned).toBe(1)
    // Later calls fail at once with the same error: the keychain is not asked again.
    await expect(store.list()).rejects.toBe(error)
    expect(keychain.calls).toHaveLength(1)
  }, 30_000)
})

describe('who can answer macOS Keychain dialog', () => {
  test.each([
    ['a terminal on stderr', facts('darwin', {}, true), true],
    [
      'a GUI app started us (no terminal)',
      facts('darwin', { __CFBundleIdentifier: 'com.microsoft.VSCode' }, false),
      true,
    ],
    ['a terminal app, stderr piped', facts('darwin', { TERM_PROGRAM: 'Apple_Terminal' }, false), true],
    ['no terminal, no app (launchd, cron)', facts('darwin', {}, false), false],
    ['SSH with a terminal', facts('darwin', { SSH_TTY: '/dev/ttys003' }, true), false],
    [
      'SSH from a GUI app variable left over',
      facts('darwin', { SSH_CLIENT: '10.0.0.2 51000 22', __CFBundleIdentifier: 'x' }, true),
      false,
    ],
    ['Linux with a terminal', facts('linux', {}, true), false],
    ['Windows with a terminal', facts('win32', {}, true), false],
  ])('%s', (_name, platform, expected) => {
    expect(personCanBeAsked(platform)).toBe(expected)
  })
})

describe('the hint of a keychain that answered with an error names the OS at hand', () => {
  test.each([
    ['darwin', UNLOCK],
    [
      'win32',
      'Check that Windows Credential Manager can be used in this session (it is not over some remote shells), or keep tokens in a file with --store file.',
    ],
    [
      'linux',
      'Unlock or start your keychain (on Linux a Secret Service such as gnome-keyring), or keep tokens in a file with --store file.',
    ],
  ] as const)('%s', async (os, fix) => {
    const refusing = new SlowKeychain(0, () => {
      throw new KeychainRefusal('User interaction is not allowed')
    })
    const store = storeWith(facts(os, { SSH_TTY: '/dev/pts/1' }), refusing, [])
    const error = await failure(store.get('prod'))
    expect(error.message).toBe('The keychain cannot be used: User interaction is not allowed.')
    expect(error.fix).toBe(fix)
    // A refusal is one call's answer: the next call asks the keychain again.
    await failure(store.list())
    expect(refusing.calls).toHaveLength(2)
  })

  test('a broken way to the keychain fails this call and every later one, with the hint', async () => {
    const broken = new SlowKeychain(0, () => {
      throw new KeychainBroken('The keychain helper stopped unexpectedly.')
    })
    const store = storeWith(facts('win32'), broken, [])
    const error = await failure(store.set('prod', record))
    expect(error.message).toBe('The keychain helper stopped unexpectedly.')
    expect(error.fix).toMatch(/Credential Manager/)
    await expect(store.get('prod')).rejects.toBe(error)
    expect(broken.calls).toHaveLength(1)
  })
})

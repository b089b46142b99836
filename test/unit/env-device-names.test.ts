/**
 * Windows device names are never env names, on any OS (docs/design.md#words): typed at
 * `env add`, taken from TOKENCTL_ENV for an env made from variables, or read from
 * config.json.
 */
import { assertEnvName, isDeviceName, isValidEnvName } from '../../src/base/env-name.js'
import { validateConfig } from '../../src/core/config-file.js'
import { envFromVariables } from '../../src/core/env-select.js'
import { ConfigError, ExitCode, UsageError } from '../../src/base/errors.js'

const DEVICES = ['con', 'prn', 'aux', 'nul', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`com${n}`, `lpt${n}`])]

/** Each device as typed, in upper and mixed case (Windows ignores case) and with an extension or two. */
const REFUSED = DEVICES.flatMap((name) => [
  name,
  name.toUpperCase(),
  `${name.charAt(0).toUpperCase()}${name.slice(1)}`,
  `${name}.txt`,
  `${name.toUpperCase()}.Txt`,
  `${name}.tar.gz`,
  `${name}.`,
])

describe('device names', () => {
  test.each(REFUSED)('%s is refused with exit 2, saying why and what to do', (name) => {
    expect(isDeviceName(name)).toBe(true)
    expect(isValidEnvName(name)).toBe(false)
    let thrown: unknown
    try {
      assertEnvName(name)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UsageError)
    expect((thrown as UsageError).exitCode).toBe(ExitCode.usage)
    expect((thrown as UsageError).message).toMatch(/Windows reserves it for a device/)
    expect((thrown as UsageError).fix).toMatch(/Pick another name/)
  })

  // Names that only start or end like a device, or that Windows does not reserve.
  test.each(['console', 'con-eu', 'my-con', 'nul2', 'com0', 'com10', 'lpt0', 'auxiliary', 'prnx', 'x.con', 'conin'])(
    '%s is an env name',
    (name) => {
      expect(isDeviceName(name)).toBe(false)
      expect(isValidEnvName(name)).toBe(true)
      expect(assertEnvName(name)).toBe(name)
    },
  )

  test('an env made from variables cannot be named after a device', () => {
    expect(() => envFromVariables({ TOKENCTL_ENV: 'aux', TOKENCTL_URL: 'https://auth.example.com' })).toThrow(
      /Windows reserves it for a device/,
    )
  })

  test('config.json with a device-named env, or one as "current", is refused with the rule in the fix', () => {
    const file = '/x/config.json'
    const named = () => validateConfig({ envs: { 'nul.txt': { protocol: 'api', url: 'https://a.example.com' } } }, file)
    expect(named).toThrow(ConfigError)
    expect(named).toThrow(/an env named "nul.txt", which is not a valid env name/)
    try {
      named()
    } catch (error) {
      expect((error as ConfigError).fix).toMatch(/not a Windows device name/)
    }
    expect(() => validateConfig({ current: 'COM1', envs: {} }, file)).toThrow(ConfigError)
  })
})

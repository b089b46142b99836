/**
 * Where tokenctl keeps its files on each platform (docs/design.md#where-things-are-kept,
 * docs/design.md#windows), with made-up platform facts so the win32 branch runs on Linux,
 * and the warning about a private dir outside the Windows profile.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { configDir, configFile, type Environ, lockDir, runtimeDir, stateDir } from '../../src/base/paths.js'
import { currentPlatform, type Platform } from '../../src/base/platform.js'
import { checkPrivateDir, outsideProfile, warnOutsideProfile } from '../../src/base/private-file.js'

function windows(environ: Environ, home = 'C:\\Users\\alice'): Platform {
  return {
    os: 'win32',
    uid: undefined,
    home,
    tmp: 'C:\\Users\\alice\\AppData\\Local\\Temp',
    execPath: 'C:\\Program Files\\nodejs\\node.exe',
    environ,
    stderrIsTTY: false,
  }
}

function linux(environ: Environ): Platform {
  return { ...windows(environ), os: 'linux', uid: 1000, home: '/home/alice', tmp: '/tmp', execPath: '/usr/bin/node' }
}

function all(environ: Environ, platform: Platform) {
  return {
    config: configDir(environ, platform),
    configFile: configFile(environ, platform),
    state: stateDir(environ, platform),
    runtime: runtimeDir(environ, platform),
    locks: lockDir(environ, platform),
  }
}

const PROFILE = {
  USERPROFILE: 'C:\\Users\\alice',
  APPDATA: 'C:\\Users\\alice\\AppData\\Roaming',
  LOCALAPPDATA: 'C:\\Users\\alice\\AppData\\Local',
}

describe('win32', () => {
  test('config under %APPDATA%, state and runtime under %LOCALAPPDATA%', () => {
    const environ = { ...PROFILE }
    expect(all(environ, windows(environ))).toEqual({
      config: 'C:\\Users\\alice\\AppData\\Roaming\\tokenctl',
      configFile: 'C:\\Users\\alice\\AppData\\Roaming\\tokenctl\\config.json',
      state: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\state',
      runtime: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run',
      locks: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run\\locks',
    })
  })

  test('variable names in any case, as Windows has them', () => {
    const environ = { AppData: 'D:\\Roaming', localappdata: 'D:\\Local' }
    expect(all(environ, windows(environ))).toMatchObject({
      config: 'D:\\Roaming\\tokenctl',
      runtime: 'D:\\Local\\tokenctl\\run',
    })
  })

  test('without APPDATA and LOCALAPPDATA (or with relative ones): the same folders in the profile', () => {
    for (const environ of [{}, { APPDATA: '', LOCALAPPDATA: '' }, { APPDATA: 'Roaming', LOCALAPPDATA: '.\\Local' }]) {
      expect(all(environ, windows(environ))).toEqual({
        config: 'C:\\Users\\alice\\AppData\\Roaming\\tokenctl',
        configFile: 'C:\\Users\\alice\\AppData\\Roaming\\tokenctl\\config.json',
        state: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\state',
        runtime: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run',
        locks: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run\\locks',
      })
    }
  })

  test('TOKENCTL_CONFIG_DIR wins for the config; XDG_* (set by Git Bash and MSYS2) are not read', () => {
    const environ = {
      ...PROFILE,
      TOKENCTL_CONFIG_DIR: 'D:\\tokenctl',
      XDG_CONFIG_HOME: 'C:\\msys64\\home\\alice\\.config',
      XDG_STATE_HOME: 'C:\\msys64\\home\\alice\\.local\\state',
      XDG_RUNTIME_DIR: 'C:\\msys64\\tmp\\run',
    }
    expect(all(environ, windows(environ))).toEqual({
      config: 'D:\\tokenctl',
      configFile: 'D:\\tokenctl\\config.json',
      state: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\state',
      runtime: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run',
      locks: 'C:\\Users\\alice\\AppData\\Local\\tokenctl\\run\\locks',
    })
  })
})

describe('linux and macOS, as before', () => {
  test('XDG_* when set', () => {
    const environ = {
      HOME: '/home/alice',
      XDG_CONFIG_HOME: '/xdg/config',
      XDG_STATE_HOME: '/xdg/state',
      XDG_RUNTIME_DIR: '/run/user/1000',
      ...PROFILE,
    }
    expect(all(environ, linux(environ))).toEqual({
      config: '/xdg/config/tokenctl',
      configFile: '/xdg/config/tokenctl/config.json',
      state: '/xdg/state/tokenctl',
      runtime: '/run/user/1000/tokenctl',
      locks: '/run/user/1000/tokenctl/locks',
    })
  })

  test('the home dir without them; TOKENCTL_CONFIG_DIR wins', () => {
    const environ = { TOKENCTL_CONFIG_DIR: '/etc/../srv/tokenctl' }
    expect(all(environ, { ...linux(environ), os: 'darwin' })).toEqual({
      config: '/srv/tokenctl',
      configFile: '/srv/tokenctl/config.json',
      state: '/home/alice/.local/state/tokenctl',
      runtime: '/home/alice/.local/state/tokenctl/run',
      locks: '/home/alice/.local/state/tokenctl/run/locks',
    })
  })

  test('without a platform, the running process: HOME from the variables given', () => {
    const environ = { HOME: '/home/bob' }
    expect(runtimeDir(environ)).toBe('/home/bob/.local/state/tokenctl/run')
    expect(configDir(environ)).toBe('/home/bob/.config/tokenctl')
    expect(stateDir({ XDG_STATE_HOME: '/s' })).toBe('/s/tokenctl')
    expect(lockDir({ XDG_RUNTIME_DIR: '/r' })).toBe('/r/tokenctl/locks')
    expect(configFile({ TOKENCTL_CONFIG_DIR: '/c' })).toBe('/c/config.json')
  })
})

describe('a private dir outside the Windows profile', () => {
  test('is told apart from one inside it, without regard to case', () => {
    const platform = windows({ USERPROFILE: 'C:\\Users\\Alice' })
    expect(outsideProfile('c:\\users\\alice\\AppData\\Local\\tokenctl\\run', platform)).toBeUndefined()
    expect(outsideProfile('C:\\Users\\Alice', platform)).toBeUndefined()
    expect(outsideProfile('D:\\tokenctl', platform)).toBe('C:\\Users\\Alice')
    expect(outsideProfile('C:\\Users\\Alice2\\tokenctl', platform)).toBe('C:\\Users\\Alice')
    expect(outsideProfile('C:\\Users\\Alice\\..\\Public\\tokenctl', platform)).toBe('C:\\Users\\Alice')
    expect(outsideProfile('\\\\server\\share\\tokenctl', platform)).toBe('C:\\Users\\Alice')
    // Without USERPROFILE, the platform's home is the profile.
    expect(outsideProfile('C:\\Users\\alice\\x', windows({}))).toBeUndefined()
    expect(outsideProfile('E:\\x', windows({}))).toBe('C:\\Users\\alice')
  })

  test('is warned about once per run, also for the dirs in it; nothing on other platforms', () => {
    const told: string[] = []
    const write = (text: string) => void told.push(text)
    const platform = windows({ USERPROFILE: 'C:\\Users\\alice' })
    warnOutsideProfile('C:\\Users\\alice\\AppData\\Local\\tokenctl\\run', 'The runtime dir', platform, write)
    expect(told).toEqual([])
    warnOutsideProfile('D:\\Shared\\tokenctl', 'The config dir', platform, write)
    warnOutsideProfile('d:\\shared\\tokenctl', 'The config dir', platform, write)
    warnOutsideProfile('D:\\Shared\\tokenctl\\locks', 'The lock dir', platform, write)
    warnOutsideProfile('E:\\state', 'The state dir', { ...platform, os: 'linux' }, write)
    expect(told).toEqual([
      'Warning: The config dir D:\\Shared\\tokenctl is outside your profile (C:\\Users\\alice), so other users of this computer may be able to read it; tokenctl cannot check that on Windows. Keep it under your profile, or make sure only you can open it.\n',
    ])
  })

  test('checkPrivateDir on win32 skips the POSIX checks and warns on stderr instead', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-win-'))
    const written: string[] = []
    const realWrite = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((text: string | Uint8Array) =>
      written.push(String(text)) > 0) as typeof process.stderr.write
    try {
      // Mode 0777 would be refused on POSIX; Windows has no such modes to judge.
      fs.chmodSync(dir, 0o777)
      const platform = { ...currentPlatform(), os: 'win32' as const, environ: { USERPROFILE: 'C:\\Users\\alice' } }
      expect(checkPrivateDir(dir, 'The runtime dir', 0o077, platform)).toBe(true)
      expect(checkPrivateDir(dir, 'The runtime dir', 0o077, platform)).toBe(true)
      expect(written).toEqual([
        expect.stringMatching(/^Warning: The runtime dir .* is outside your profile \(C:\\Users\\alice\), /),
      ])
      expect(() => checkPrivateDir(dir, 'The runtime dir', 0o077, { ...platform, os: 'linux' })).toThrow(
        /is open to other users \(mode 0777\)/,
      )
    } finally {
      process.stderr.write = realWrite
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

/**
 * `exec` on Windows, with made-up win32 facts on Linux (docs/design.md#windows): commands
 * found through PATH and PATHEXT (never the current dir), `.cmd`/`.bat` started through
 * cmd.exe, and no signal passed on. The files looked for are real temp files; the check
 * reads their dir without regard to case, as NTFS does.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ExitCode, UsageError } from '../../src/base/errors.js'
import type { Platform } from '../../src/base/platform.js'
import {
  DEFAULT_PATHEXT,
  type IsFile,
  cmdExe,
  resolveWindowsCommand,
  windowsLaunch,
} from '../../src/integrations/exec-windows.js'
import { runWithToken, signalHandling } from '../../src/integrations/exec.js'

function facts(os: NodeJS.Platform, environ: Record<string, string>): Platform {
  return {
    os,
    uid: undefined,
    home: 'C:\\Users\\alice',
    tmp: 'C:\\Temp',
    execPath: 'C:\\node\\node.exe',
    environ,
    stderrIsTTY: false,
  }
}
const win32 = (environ: Record<string, string>) => facts('win32', environ)

/** A real fs check of a win32-style path on Linux, caseless as on NTFS. */
const caseless: IsFile = (file) => {
  const posix = file.replaceAll('\\', '/')
  const dir = path.posix.dirname(posix)
  const base = path.posix.basename(posix).toLowerCase()
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .some((entry) => entry.isFile() && entry.name.toLowerCase() === base)
  } catch {
    return false
  }
}

/** What a result looks like in the posix terms of the temp dirs. */
const posix = (file: string | undefined) => file?.replaceAll('\\', '/')

let root: string
let both: string // tool.CMD and tool.exe
let onlyCmd: string // tool.cmd
let empty: string
const touch = (dir: string, name: string) => fs.writeFileSync(path.join(dir, name), '')

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-exec-win-'))
  const dir = (name: string) => {
    fs.mkdirSync(path.join(root, name))
    return path.join(root, name)
  }
  both = dir('both')
  onlyCmd = dir('only-cmd')
  empty = dir('empty')
  touch(both, 'tool.CMD')
  touch(both, 'tool.exe')
  touch(onlyCmd, 'tool.cmd')
  touch(onlyCmd, 'notes.txt')
  fs.mkdirSync(path.join(empty, 'dir.exe'))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('resolving a command through PATH and PATHEXT', () => {
  const resolve = (name: string, environ: Record<string, string>) =>
    posix(resolveWindowsCommand(name, win32(environ), caseless))

  test('PATHEXT order decides between two files of one dir', () => {
    expect(resolve('tool', { PATH: both, PATHEXT: '.COM;.EXE;.BAT;.CMD' })).toBe(`${both}/tool.EXE`)
    expect(resolve('tool', { PATH: both, PATHEXT: '.CMD;.EXE' })).toBe(`${both}/tool.CMD`)
  })

  test(`without PATHEXT, Windows' own default (${DEFAULT_PATHEXT})`, () => {
    expect(resolve('tool', { PATH: both })).toBe(`${both}/tool.EXE`)
    expect(resolve('tool', { PATH: onlyCmd })).toBe(`${onlyCmd}/tool.CMD`)
  })

  test('PATH order comes before PATHEXT order; an empty dir or a dir named like the command is passed by', () => {
    expect(resolve('tool', { PATH: [empty, onlyCmd, both].join(';') })).toBe(`${onlyCmd}/tool.CMD`)
    expect(resolve('dir', { PATH: empty })).toBeUndefined()
  })

  test('a name with an extension is tried as given first, whatever its case', () => {
    expect(resolve('tool.cmd', { PATH: both })).toBe(`${both}/tool.cmd`)
    expect(resolve('TOOL.CMD', { PATH: onlyCmd })).toBe(`${onlyCmd}/TOOL.CMD`)
    expect(resolve('notes.txt', { PATH: onlyCmd })).toBe(`${onlyCmd}/notes.txt`)
  })

  test('variable names are caseless: Path and PathExt', () => {
    expect(resolve('tool', { Path: both, PathExt: '.cmd' })).toBe(`${both}/tool.cmd`)
  })

  test('a PATH dir in quotes, and empty entries, are read as Windows reads them', () => {
    expect(resolve('tool', { PATH: `;"${onlyCmd}";;` })).toBe(`${onlyCmd}/tool.CMD`)
  })

  test('a name with a dir part is that file, with PATHEXT appended when it has no extension, never searched on PATH', () => {
    expect(resolve(`${both}/tool`, { PATH: onlyCmd })).toBe(`${both}/tool.EXE`)
    expect(resolve(`${both}\\tool.CMD`, { PATH: onlyCmd })).toBe(`${both}/tool.CMD`)
    expect(resolve(`${empty}/tool`, { PATH: onlyCmd })).toBeUndefined()
  })

  test('not found anywhere', () => {
    expect(resolve('nosuch', { PATH: [empty, both, onlyCmd].join(';') })).toBeUndefined()
    expect(resolve('tool', { PATH: '' })).toBeUndefined()
    expect(resolve('tool', {})).toBeUndefined()
  })

  test('never the current dir, nor a relative PATH entry', () => {
    const looked: string[] = []
    const everything: IsFile = (file) => (looked.push(file), true)
    expect(resolveWindowsCommand('tool', win32({ PATH: '.;bin;.\\tools' }), everything)).toBeUndefined()
    expect(looked).toEqual([])
    expect(resolveWindowsCommand('tool', win32({ PATH: `.;C:\\bin` }), everything)).toBe('C:\\bin\\tool.COM')
    expect(looked).toEqual(['C:\\bin\\tool.COM'])
  })
})

describe('starting what was found', () => {
  const platform = win32({ SystemRoot: 'C:\\WINDOWS' })

  test('an .exe or .com is started directly, its arguments quoted by Node', () => {
    for (const file of ['C:\\bin\\tool.exe', 'C:\\bin\\TOOL.COM']) {
      expect(windowsLaunch(file, ['a b', '%PATH%'], platform)).toEqual({
        file,
        args: ['a b', '%PATH%'],
        windowsVerbatimArguments: false,
      })
    }
  })

  test('a .cmd or .bat goes through the system cmd.exe, with the line as it is', () => {
    expect(cmdExe(platform)).toBe('C:\\WINDOWS\\System32\\cmd.exe')
    expect(windowsLaunch('C:\\Program Files\\nodejs\\npm.CMD', ['install', 'a&b'], platform)).toEqual({
      file: 'C:\\WINDOWS\\System32\\cmd.exe',
      args: ['/d', '/e:ON', '/v:OFF', '/s', '/c', '""C:\\Program Files\\nodejs\\npm.CMD" "install" "a&b""'],
      windowsVerbatimArguments: true,
    })
    expect(windowsLaunch('C:\\x\\build.bat', [], win32({})).file).toBe('C:\\Windows\\System32\\cmd.exe')
  })

  test('an argument a batch file cannot be given is a usage error naming its position, not its value', () => {
    const thrown = catching(() => windowsLaunch('C:\\bin\\npm.cmd', ['run', 'line one\nline two'], platform))
    expect(thrown).toBeInstanceOf(UsageError)
    expect((thrown as UsageError).exitCode).toBe(ExitCode.usage)
    expect((thrown as UsageError).message).toBe(
      'Argument 2 holds a line break or NUL, which a batch file cannot be given.',
    )
    expect((thrown as UsageError).message).not.toContain('line one')
  })

  test('a file of another kind is a usage error: it needs its program', () => {
    const thrown = catching(() => windowsLaunch('C:\\bin\\notes.txt', [], platform))
    expect(thrown).toBeInstanceOf(UsageError)
    expect((thrown as UsageError).exitCode).toBe(ExitCode.usage)
    expect((thrown as UsageError).message).toMatch(/cannot be started directly/)
  })
})

describe('signals', () => {
  test('with win32 facts Ctrl-C and Ctrl-Break are held, none passed on; on Linux and macOS the same six as ever', () => {
    expect(signalHandling({ os: 'win32' })).toEqual({ handled: ['SIGINT', 'SIGBREAK'], forwarded: [] })
    const six = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']
    expect(signalHandling({ os: 'linux' })).toEqual({ handled: six, forwarded: six })
    expect(signalHandling({ os: 'darwin' })).toEqual({ handled: six, forwarded: six })
  })

  describe('runWithToken', () => {
    let script: string
    beforeAll(() => {
      // A program Linux can start under a name Windows would: the win32 branch runs it for
      // real. It ends with 9 if a signal reaches it, else with 7 after about a second.
      script = path.join(root, 'exit7')
      fs.writeFileSync(
        `${script}.exe`,
        '#!/bin/sh\ntrap \'exit 9\' INT TERM\necho up > "$0.up"\ni=0\nwhile [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done\nexit 7\n',
        { mode: 0o755 },
      )
    })
    const up = async () => {
      for (let i = 0; i < 200 && !fs.existsSync(`${script}.exe.up`); i++) await new Promise((r) => setTimeout(r, 10))
      fs.rmSync(`${script}.exe.up`, { force: true })
    }

    const listeners = () => ['SIGINT', 'SIGTERM', 'SIGBREAK'].map((signal) => process.listenerCount(signal))

    test('with win32 facts: found through PATHEXT, Ctrl-C and Ctrl-Break held and not passed on, the exit code passed on', async () => {
      const before = listeners()
      const running = runWithToken(script, [], {}, win32({ PATHEXT: '.exe' }), caseless)
      expect(listeners()).toEqual([before[0]! + 1, before[1], before[2]! + 1])
      await up()
      // What Node does when the console delivers the key: the handlers run, nothing more.
      process.emit('SIGINT', 'SIGINT')
      process.emit('SIGBREAK', 'SIGBREAK')
      await expect(running).resolves.toBe(7)
      expect(listeners()).toEqual(before)
    })

    test('with linux facts: a handler for each while the child runs, passing it on, gone after', async () => {
      const before = listeners()
      const running = runWithToken(`${script}.exe`, [], {}, facts('linux', {}))
      expect(listeners()).toEqual([before[0]! + 1, before[1]! + 1, before[2]])
      await up()
      process.emit('SIGTERM', 'SIGTERM')
      await expect(running).resolves.toBe(9)
      expect(listeners()).toEqual(before)
    })

    test('with win32 facts, a command not found is the usual usage error', async () => {
      const thrown = await runWithToken('nosuch', [], {}, win32({ PATH: empty }), caseless).catch((error) => error)
      expect(thrown).toBeInstanceOf(UsageError)
      expect((thrown as UsageError).exitCode).toBe(ExitCode.usage)
      expect((thrown as UsageError).message).toBe('Command not found: nosuch.')
    })
  })
})

function catching(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  return undefined
}

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { StoreUnavailableError } from '../../src/base/errors.js'
import { FileStore } from '../../src/stores/file-store.js'

let dir: string
beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-fs-')), 'config')
})
afterEach(() => {
  fs.chmodSync(path.dirname(dir), 0o700)
  if (fs.existsSync(dir)) fs.chmodSync(dir, 0o700)
  fs.rmSync(path.dirname(dir), { recursive: true, force: true })
})

const mode = (file: string) => fs.statSync(file).mode & 0o777

describe('file store', () => {
  test('0600 file in a 0700 dir, one record per env, round trip', async () => {
    const store = new FileStore(dir)
    await store.set('prod', { refreshToken: 'r1', user: 'alice' })
    await store.set('staging', { accessToken: 'a2', accessExpiresAt: 5 })
    expect(mode(dir)).toBe(0o700)
    expect(mode(store.file)).toBe(0o600)
    expect(await store.get('prod')).toEqual({ refreshToken: 'r1', user: 'alice' })
    expect(await store.list()).toEqual([
      ['prod', { refreshToken: 'r1', user: 'alice' }],
      ['staging', { accessToken: 'a2', accessExpiresAt: 5 }],
    ])
    expect(await store.delete('prod')).toBe(true)
    expect(await store.delete('prod')).toBe(false)
    expect(await store.get('prod')).toBeUndefined()
    expect(JSON.parse(fs.readFileSync(store.file, 'utf8'))).toEqual({
      version: 1,
      envs: { staging: { accessToken: 'a2', accessExpiresAt: 5 } },
    })
  })

  test('a config dir that others could read is refused, not quietly tightened: it may have been read already', async () => {
    fs.mkdirSync(dir, { mode: 0o755 })
    fs.chmodSync(dir, 0o755)
    for (const call of [
      () => new FileStore(dir).set('prod', { refreshToken: 'r' }),
      () => new FileStore(dir).get('prod'),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect((error as StoreUnavailableError).message).toBe(
        `The config dir ${dir} is open to other users (mode 0755), so tokenctl will not use it.`,
      )
      expect((error as StoreUnavailableError).fix).toBe(`Run: chmod 700 '${dir}'`)
    }
    expect(mode(dir)).toBe(0o755)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  test('a store dir that is a symlink is refused for reads and writes alike', async () => {
    const store = new FileStore(dir)
    await store.set('prod', { refreshToken: 'r1' })
    const link = `${dir}-link`
    fs.symlinkSync(dir, link)
    const viaLink = new FileStore(link)
    await expect(viaLink.get('prod')).rejects.toThrow(
      `The config dir ${link} is a symbolic link, so tokenctl will not use it.`,
    )
    await expect(viaLink.set('prod', { refreshToken: 'r2' })).rejects.toThrow(StoreUnavailableError)
    expect(await store.get('prod')).toEqual({ refreshToken: 'r1' })
  })

  test('warns once, when the file is first created', async () => {
    const warnings: string[] = []
    const store = new FileStore(dir, (message) => warnings.push(message))
    await store.set('prod', { refreshToken: 'r1' })
    await store.set('prod', { refreshToken: 'r2' })
    await new FileStore(dir, (message) => warnings.push(message)).set('staging', { refreshToken: 'r3' })
    expect(warnings).toEqual([`Tokens are kept in the plain file ${store.file} (mode 0600), not in the OS keychain.`])
  })

  test('writes are atomic: temp file + rename, no temp file left behind', async () => {
    const store = new FileStore(dir)
    await store.set('prod', { refreshToken: 'r1' })
    const inode = fs.statSync(store.file).ino
    await store.set('prod', { refreshToken: 'r2' })
    // A rename gives the file a new inode; an in-place rewrite would keep it.
    expect(fs.statSync(store.file).ino).not.toBe(inode)
    expect(fs.readdirSync(dir)).toEqual(['credentials.json'])
  })

  test('a failed write leaves the previous record intact and says so', async () => {
    const store = new FileStore(dir)
    await store.set('prod', { refreshToken: 'r1' })
    const before = fs.readFileSync(store.file)
    if (isRoot()) {
      // Directory modes do not stop root; a directory in the way of the store's lock does.
      fs.mkdirSync(path.join(dir, 'credentials.lock'))
      await expect(store.set('prod', { refreshToken: 'r2' })).rejects.toThrow('the previous content is intact')
      fs.rmdirSync(path.join(dir, 'credentials.lock'))
    } else {
      fs.chmodSync(dir, 0o500)
      await expect(store.set('prod', { refreshToken: 'r2' })).rejects.toThrow('the previous content is intact')
      fs.chmodSync(dir, 0o700)
    }
    expect(fs.readFileSync(store.file)).toEqual(before)
    expect(await store.get('prod')).toEqual({ refreshToken: 'r1' })
  })

  test('a file readable by others is refused with the chmod to run', async () => {
    const store = new FileStore(dir)
    await store.set('prod', { refreshToken: 'r1' })
    fs.chmodSync(store.file, 0o644)
    const error = await store.get('prod').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as StoreUnavailableError).fix).toBe(`Run: chmod 600 '${store.file}'`)
  })

  test('a file that is not JSON is reported and left alone', async () => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const file = path.join(dir, 'credentials.json')
    fs.writeFileSync(file, 'garbage', { mode: 0o600 })
    await expect(new FileStore(dir).get('prod')).rejects.toThrow('is not readable JSON')
    expect(fs.readFileSync(file, 'utf8')).toBe('garbage')
  })
})

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

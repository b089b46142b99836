'use strict'
// A CommonJS preload (node --require) by necessity: the lint's CommonJS settings cover bin/ only.
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * A preload (`node --require test/support/windows-fs.cjs`, or through NODE_OPTIONS for the
 * CLI under test) that makes `fs` refuse what Windows refuses while another process has a
 * file open, so that tokenctl's retries (src/base/fs-retry.ts) can be tested on Linux.
 *
 * "Another process has it open" is signalled across processes by a sentinel file that the
 * test creates and removes beside the path:
 *
 * - `<path>.held`: another program holds `<path>` open (without sharing delete, as editors
 *   and virus scanners do). A rename onto `<path>` fails with EPERM, as MoveFileEx does.
 * - `<path>.deleting`: `<path>` is being deleted and a handle on it is still open. Opening
 *   it in any way, an exclusive create ('wx', O_CREAT|O_EXCL) included, fails with EPERM
 *   (STATUS_DELETE_PENDING), not EEXIST or ENOENT.
 *
 * When the preload refuses a call because of a sentinel, it creates `<sentinel>.seen`, so
 * that a test knows the process under test has met the hold before it ends it.
 *
 * Patched: renameSync, rename, promises.rename, openSync, open, promises.open. Everything
 * else is Node's own. The sentinels are looked up on every call: they come and go while
 * the process runs.
 */
const fs = require('node:fs')
const path = require('node:path')
const { syncBuiltinESMExports } = require('node:module')
const { fileURLToPath } = require('node:url')

const real = {
  renameSync: fs.renameSync,
  rename: fs.rename,
  promisesRename: fs.promises.rename,
  openSync: fs.openSync,
  open: fs.open,
  promisesOpen: fs.promises.open,
  existsSync: fs.existsSync,
}

function asPath(target) {
  if (typeof target === 'string') return path.resolve(target)
  if (Buffer.isBuffer(target)) return path.resolve(target.toString())
  if (target instanceof URL) return fileURLToPath(target)
  return undefined
}

function sentinel(target, suffix) {
  const file = asPath(target)
  if (file === undefined || !real.existsSync(`${file}${suffix}`)) return false
  try {
    fs.writeFileSync(`${file}${suffix}.seen`, '')
  } catch {
    // the test removed the sentinel's dir: nobody is waiting for the sign
  }
  return true
}

function eperm(syscall, target, dest) {
  const error = new Error(
    `EPERM: operation not permitted, ${syscall} '${asPath(target)}'${dest ? ` -> '${asPath(dest)}'` : ''}`,
  )
  error.errno = -1
  error.code = 'EPERM'
  error.syscall = syscall
  error.path = asPath(target)
  if (dest) error.dest = asPath(dest)
  return error
}

const renameRefused = (from, to) => sentinel(to, '.held')
const openRefused = (file) => sentinel(file, '.deleting')

fs.renameSync = function renameSync(from, to) {
  if (renameRefused(from, to)) throw eperm('rename', from, to)
  return real.renameSync.apply(fs, arguments)
}

fs.rename = function rename(from, to, callback) {
  if (renameRefused(from, to)) return process.nextTick(callback, eperm('rename', from, to))
  return real.rename.apply(fs, arguments)
}

fs.promises.rename = async function rename(from, to) {
  if (renameRefused(from, to)) throw eperm('rename', from, to)
  return real.promisesRename.apply(fs.promises, arguments)
}

fs.openSync = function openSync(file) {
  if (openRefused(file)) throw eperm('open', file)
  return real.openSync.apply(fs, arguments)
}

fs.open = function open(file) {
  const callback = arguments[arguments.length - 1]
  if (openRefused(file) && typeof callback === 'function') return process.nextTick(callback, eperm('open', file))
  return real.open.apply(fs, arguments)
}

fs.promises.open = async function open(file) {
  if (openRefused(file)) throw eperm('open', file)
  return real.promisesOpen.apply(fs.promises, arguments)
}

// `import { renameSync } from 'node:fs'` reads the ESM copies of the exports: bring them up to date.
syncBuiltinESMExports()

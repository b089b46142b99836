#!/usr/bin/env node
'use strict'
// A cache hit of `token`, `git-credential get` or `kube-credential`, and `status` and
// `env list`, are served by the fast path with Node's built-ins alone; everything else (and
// anything the fast path is unsure of) goes to oclif. CommonJS (bin/package.json), like the bundle: Node's ES module
// loader would cost every start a few milliseconds.
const path = require('node:path')

/**
 * Node's own default compile-cache dir is one dir under os.tmpdir() shared by every user, where
 * another local user can create our per-user folder first and fill it with code for this
 * process to run. The user's own cache dir has no such neighbour: %LOCALAPPDATA% on Windows,
 * where XDG_* is not read (as in src/base/paths.ts), else $XDG_CACHE_HOME or ~/.cache.
 */
function userCacheDir() {
  const { env } = process
  const absolute = (value) => (value && path.isAbsolute(value) ? value : undefined)
  const home = () => require('node:os').homedir()
  if (process.platform === 'win32') return absolute(env.LOCALAPPDATA) ?? path.join(home(), 'AppData', 'Local')
  return absolute(env.XDG_CACHE_HOME) ?? path.join(home(), '.cache')
}

if (Number(process.versions.node.split('.')[0]) >= 22) {
  require('node:module').enableCompileCache?.(path.join(userCacheDir(), 'tokenctl', 'compile-cache'))
}

const { fastPath, guardStderr } = require('../dist/fast-path.bundle.cjs')
// Every byte to stderr is redacted, whoever writes it (docs/design.md#secrets-never-leak).
guardStderr()
fastPath(process.argv.slice(2)).then((served) => {
  if (served) return
  const oclif = require('@oclif/core')
  // The installed CLI runs dist/ and nothing else. Left on, oclif looks for TypeScript sources
  // whenever NODE_ENV is test or development (jest sets it, many shells do) and, on the Node
  // lines that can run TypeScript, warns on stderr that it found none; bin/dev.js runs src/.
  oclif.settings.enableAutoTranspile = false
  // oclif finds its root from the package.json named here (bin/ has one of its own).
  return oclif.execute({ dir: path.join(__dirname, '..', 'package.json') })
})

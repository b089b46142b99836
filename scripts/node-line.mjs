#!/usr/bin/env node
/**
 * `node scripts/node-line.mjs 24` prints the path of a Node 24 binary to run the tests with:
 * the registry's `node-<os>-<arch>` package at the version pinned below, unpacked once into
 * .cache/node/<version>/ (gitignored) and reused after. A pinned version, not "latest 24", so
 * that a CI run today and one next month test the same Node; raise the pins on purpose.
 * It only writes, and only removes, inside .cache/node/.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const PINNED = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' }

const line = process.argv[2]
const version = PINNED[line]
if (!version) {
  process.stderr.write(`usage: node scripts/node-line.mjs <${Object.keys(PINNED).join('|')}>\n`)
  process.exit(2)
}
// The registry publishes these binaries for Linux (x64, arm64); macOS and Windows CI use their own Node.
if (process.platform !== 'linux') {
  process.stderr.write(`node-line: the registry's node packages are Linux builds; this is ${process.platform}\n`)
  process.exit(2)
}

const cache = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'node')
const home = path.join(cache, version)
const binary = path.join(home, 'bin', 'node')

const reports = (node) => {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() === `v${version}`
  } catch {
    return false
  }
}

if (!reports(binary)) {
  fs.mkdirSync(cache, { recursive: true })
  // Unpacked beside the cache entry and renamed into place, so that an interrupted fetch never
  // leaves a half-written binary where the next call would take it as done.
  const work = fs.mkdtempSync(path.join(cache, `.fetch-${version}-`))
  try {
    const spec = `node-${process.platform}-${process.arch}@${version}`
    // npm checks the tarball against the registry's integrity hash.
    const tarball = execFileSync('npm', ['pack', spec, '--pack-destination', work, '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .pop()
    execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', work], { stdio: 'inherit' })
    fs.rmSync(home, { recursive: true, force: true })
    fs.renameSync(path.join(work, 'package'), home)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
  if (!reports(binary)) {
    process.stderr.write(`node-line: ${binary} does not report v${version}\n`)
    process.exit(1)
  }
}
process.stdout.write(`${binary}\n`)

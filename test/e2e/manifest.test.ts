import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ROOT } from '../support/cli.js'
import { committedManifest, freshManifest } from '../support/manifest.js'

// oclif reads flags from oclif.manifest.json at run time, so a stale one breaks the CLI.
test('oclif.manifest.json matches the compiled commands (run `npm run build` to refresh it)', () => {
  expect(committedManifest(ROOT)).toEqual(freshManifest(ROOT))
})

test('the check catches a flag that changed without the manifest', () => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-manifest-'))
  try {
    fs.cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'))
    fs.copyFileSync(path.join(ROOT, 'oclif.manifest.json'), path.join(copy, 'oclif.manifest.json'))
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'))
    const listFile = path.join(copy, 'dist', 'commands', 'env', 'list.js')
    const source = fs.readFileSync(listFile, 'utf8')
    expect(source).toContain('json: Flags.boolean(')
    fs.writeFileSync(listFile, source.replace('json: Flags.boolean(', 'jsonl: Flags.boolean('))
    expect(committedManifest(copy)).not.toEqual(freshManifest(copy))
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
})

// The command reference is generated (`npm run readme`, part of `npm run build`); a command
// whose help changed without it leaves docs/commands.md telling something else.
test('docs/commands.md is what `npm run readme` writes for the commands (run `npm run build` to refresh it)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-commands-'))
  try {
    const copy = path.join(dir, 'commands.md')
    const committed = fs.readFileSync(path.join(ROOT, 'docs', 'commands.md'), 'utf8')
    fs.writeFileSync(copy, committed)
    // The package's own script, pointed at the copy: `oclif readme … --readme-path docs/commands.md`.
    const script = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts.readme!
    const args = script.split(/\s+/).slice(1)
    const at = args.indexOf('--readme-path')
    expect(args[at + 1]).toBe('docs/commands.md')
    args[at + 1] = copy
    const oclif = path.join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js')
    const result = spawnSync(process.execPath, [oclif, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
    })
    expect(result.status).toBe(0)
    expect(fs.readFileSync(copy, 'utf8')).toBe(committed)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)

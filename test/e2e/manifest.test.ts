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
    expect(source).toContain("json: Flags.boolean(")
    fs.writeFileSync(listFile, source.replace('json: Flags.boolean(', 'jsonl: Flags.boolean('))
    expect(committedManifest(copy)).not.toEqual(freshManifest(copy))
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
})

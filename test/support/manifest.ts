import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { ROOT } from './cli.js'

/**
 * The manifest oclif would write for the compiled commands under `root`, made the way
 * `oclif manifest` makes it (in a plain Node process: oclif loads the command files).
 */
export function freshManifest(root: string): unknown {
  const script = `
    const { Plugin } = await import(${JSON.stringify(import.meta.resolve?.('@oclif/core') ?? '@oclif/core')})
    const plugin = new Plugin({ root: process.argv[1], type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true })
    await plugin.load()
    process.stdout.write(JSON.stringify(plugin.manifest))
  `
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, root], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`manifest generation failed: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

export function committedManifest(root: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'))
}

#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
'use strict'
// Runs the commands straight from src/ (no build) while working on tokenctl: tsx, loaded by the
// line above, compiles each .ts file as it is imported.
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

// package.json points oclif at dist/, as the installed CLI needs. oclif's own way from dist/ back
// to the sources goes through tsconfig.json's rootDir, which is "." (tests and scripts are type
// checked too), so it would look for ./commands and fall back to dist/. Here the same entries
// are pointed at src/ directly instead.
const toSource = (entry) => entry.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts')
pjson.oclif = {
  ...pjson.oclif,
  commands: toSource(pjson.oclif.commands),
  hooks: Object.fromEntries(Object.entries(pjson.oclif.hooks ?? {}).map(([event, file]) => [event, toSource(file)])),
}

const oclif = require('@oclif/core')
// The paths above are already the sources, and tsx is already loaded: oclif's lookup would only
// map them through tsconfig.json again and warn that it found nothing there.
oclif.settings.enableAutoTranspile = false

async function main() {
  // oclif.manifest.json lists the commands under dist/ (and their flags as last built): the root
  // plugin made here ignores it and finds the commands by walking src/commands.
  const rootPlugin = new oclif.Plugin({ root, pjson, isRoot: true, ignoreManifest: true })
  await rootPlugin.load()
  const config = await oclif.Config.load({ root, pjson, plugins: new Map([[rootPlugin.name, rootPlugin]]) })
  // Handing oclif the root plugin makes it skip the others; this loads help and autocomplete too.
  await config.loadPluginsAndCommands({ force: true })
  return oclif.execute({ development: true, loadOptions: config })
}
main().catch((error) => oclif.handle(error))

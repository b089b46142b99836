#!/usr/bin/env node
// A cache hit of `token` or `git-credential get` is served by the fast path with Node's
// built-ins alone; everything else (and anything the fast path is unsure of) goes to oclif.
import module from 'node:module'

module.enableCompileCache?.()

const { fastPath } = await import('../dist/fast-path.js')
if (!(await fastPath(process.argv.slice(2)))) {
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}

#!/usr/bin/env node
// A cache hit of `token` or `git-credential get` is served by the fast path with Node's
// built-ins alone; everything else (and anything the fast path is unsure of) goes to oclif.
if (Number(process.versions.node.split('.')[0]) >= 22) (await import('node:module')).enableCompileCache?.()

const { fastPath, guardStderr } = await import('../dist/fast-path.bundle.js')
// Every byte to stderr is redacted, whoever writes it (SPEC §9).
guardStderr()
if (!(await fastPath(process.argv.slice(2)))) {
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}

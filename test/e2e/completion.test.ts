import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { patchBash, patchZsh } from '../../src/integrations/completion.js'
import { BIN, Sandbox } from '../support/cli.js'

let sandbox: Sandbox
let cacheDir: string
let binDir: string
beforeAll(async () => {
  sandbox = new Sandbox()
  cacheDir = path.join(sandbox.dir, 'cache')
  binDir = path.join(sandbox.dir, 'bin')
  fs.mkdirSync(binDir)
  // The completion script calls `tokenctl` from PATH, as it would once installed.
  fs.writeFileSync(path.join(binDir, 'tokenctl'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, {
    mode: 0o755,
  })
  await sandbox.run(['env', 'add', 'prod', '--url', 'https://api.example.com'])
  await sandbox.run(['env', 'add', 'staging', '--url', 'https://staging.example.com'])
  const result = await sandbox.run(['autocomplete', 'bash'], { env: { XDG_CACHE_HOME: cacheDir } })
  expect(result.code).toBe(0)
})
afterAll(() => sandbox.cleanup())

/** What bash would offer after `words`, the last one being completed (`tokenctl` found in `bin`). */
function complete(words: string[], bin = binDir): string[] {
  const script = path.join(cacheDir, 'tokenctl', 'autocomplete', 'functions', 'bash', 'tokenctl.bash')
  const program = `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tokenctl_autocomplete_with_envs; printf '%s\\n' "\${COMPREPLY[@]}"`
  const out = execFileSync('bash', ['-c', program], {
    env: sandbox.env({ PATH: `${bin}:${process.env.PATH}` }),
    encoding: 'utf8',
  })
  return out.split('\n').filter(Boolean).sort()
}

test('bash completes env names after --env and -e', () => {
  expect(complete(['tokenctl', 'token', '--env', ''])).toEqual(['prod', 'staging'])
  expect(complete(['tokenctl', 'status', '-e', 'st'])).toEqual(['staging'])
})

test('bash completes env names for env use, show and remove', () => {
  expect(complete(['tokenctl', 'env', 'use', ''])).toEqual(['prod', 'staging'])
  expect(complete(['tokenctl', 'env', 'remove', 'p'])).toEqual(['prod'])
})

test('hostile env names are never expanded by the shell, nor offered', () => {
  // Another `tokenctl` on PATH (or an older one reading a planted config) prints names that
  // are shell code. Completing must run none of it, and must not put it on the command line.
  const hostileBin = path.join(sandbox.dir, 'hostile-bin')
  fs.mkdirSync(hostileBin)
  const ran = (name: string) => path.join(sandbox.dir, name)
  const names = [
    `$(touch ${ran('q')})`,
    `\`touch ${ran('b')}\``,
    `x;touch ${ran('p')};#`,
    `$(touch ${ran('r')})prod`,
    'prod-eu',
    '*',
    'Prod',
    '',
  ]
  fs.writeFileSync(path.join(hostileBin, 'names'), `${names.join('\n')}\n`)
  fs.writeFileSync(path.join(hostileBin, 'tokenctl'), `#!/bin/sh\ncat '${path.join(hostileBin, 'names')}'\n`, {
    mode: 0o755,
  })
  expect(complete(['tokenctl', 'token', '-e', ''], hostileBin)).toEqual(['prod-eu'])
  expect(complete(['tokenctl', 'env', 'use', 'p'], hostileBin)).toEqual(['prod-eu'])
  expect(complete(['tokenctl', 'env', 'use', '$'], hostileBin)).toEqual([])
  for (const marker of ['q', 'b', 'p', 'r']) expect(fs.existsSync(ran(marker))).toBe(false)
})

test('commands and flags are still completed by the plugin', () => {
  expect(complete(['tokenctl', 'tok'])).toEqual(['token'])
  expect(complete(['tokenctl', 'token', '--force'])).toEqual(['--force-refresh'])
})

test('the patches are idempotent, and zsh gets env names for --env and env use', () => {
  const bash = patchBash('complete -F _tokenctl_autocomplete tokenctl\n', 'tokenctl')
  expect(patchBash(bash, 'tokenctl')).toBe(bash)
  const zsh = [
    '#compdef tokenctl',
    '_tokenctl_env() {',
    '      case $line[1] in',
    '        "use")',
    '          _arguments -S \\',
    '"(-e --env)"{-e,--env}"[Env to use.]:file:_files" \\',
    '"*: :_files" ;;',
    '        "add")',
    '          _arguments -S \\',
    '"*: :_files" ;;',
    '',
  ].join('\n')
  const patched = patchZsh(zsh, 'tokenctl')
  expect(patched).toContain('_tokenctl_env_names() {')
  // No word of the names' output is evaluated, and only valid names are offered.
  expect(patched).toContain('compadd -a names')
  expect(patched).toContain('[[ $name == [a-z0-9]* && $name != *[^a-z0-9._-]* && ${#name} -le 64 ]]')
  expect(patched).toContain('{-e,--env}"[Env to use.]:env:_tokenctl_env_names"')
  expect(patched).toContain(
    '"use")\n          _arguments -S \\\n"(-e --env)"{-e,--env}"[Env to use.]:env:_tokenctl_env_names" \\\n"1: :_tokenctl_env_names" ;;',
  )
  expect(patched).toContain('"add")\n          _arguments -S \\\n"*: :_files" ;;')
  expect(patchZsh(patched, 'tokenctl')).toBe(patched)
})

test('env list --names prints the names and nothing else', async () => {
  const result = await sandbox.run(['env', 'list', '--names'])
  expect(result).toMatchObject({ code: 0, stdout: 'prod\nstaging\n', stderr: '' })
})

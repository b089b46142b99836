import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * @oclif/plugin-autocomplete writes static completion scripts; env names change, so the
 * scripts are patched to ask `tokenctl env list --names` for `-e/--env` and for the
 * argument of `env use|show|remove`. Patching is idempotent (a marker line says it is done).
 *
 * The names are data, never shell code: `compgen -W "$(…)"` would run every `$(…)` and
 * backtick inside a name, so each name is read as one line and compared as a string. And
 * only valid env names are offered: a reply lands on the person's command line as it is,
 * where a name such as `x;touch f;#` would run on Enter. (A config file with such a name
 * is refused anyway; a `tokenctl` earlier on PATH, or an older one, is not ours to trust.)
 */
const MARKER = '# tokenctl: env-name completion'
const ENV_COMMANDS = ['use', 'show', 'remove', 'rm']

export function patchBash(script: string, bin: string): string {
  if (script.includes(MARKER)) return script
  const fn = `_${bin}_autocomplete`
  return `${script}
${MARKER}
${fn}_with_envs()
{
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ "$prev" == "-e" || "$prev" == "--env" ]] || { [[ "\${COMP_WORDS[1]}" == "env" ]] && [[ " ${ENV_COMMANDS.join(' ')} " == *" \${COMP_WORDS[2]} "* ]] && (( COMP_CWORD == 3 )) && [[ "$cur" != -* ]]; }; then
    local name
    COMPREPLY=()
    while IFS= read -r name; do
      [[ $name =~ ^[a-z0-9][a-z0-9._-]{0,63}$ && $name == "$cur"* ]] && COMPREPLY+=("$name")
    done < <(${bin} env list --names 2>/dev/null)
    return 0
  fi
  ${fn}
}
complete -F ${fn}_with_envs ${bin}
`
}

export function patchZsh(script: string, bin: string): string {
  if (script.includes(MARKER)) return script
  const helper = `_${bin}_env_names`
  let patched = script.replace(/(\{-e,--env\}"\[[^\n]*?\]):file:_files"/g, `$1:env:${helper}"`)
  // Inside the env topic's function: the argument of use/show/remove is an env name.
  patched = patched.replace(
    new RegExp(`(\\n\\s*"(${ENV_COMMANDS.join('|')})"\\)\\n[\\s\\S]*?)"\\*: :_files"`, 'g'),
    `$1"1: :${helper}"`,
  )
  const definition = [
    MARKER,
    `${helper}() {`,
    '  local name',
    '  local -a names',
    `  for name in \${(f)"$(${bin} env list --names 2>/dev/null)"}; do`,
    '    [[ $name == [a-z0-9]* && $name != *[^a-z0-9._-]* && ${#name} -le 64 ]] && names+=("$name")',
    '  done',
    '  compadd -a names',
    '}',
    '',
  ].join('\n')
  // A function, not a replacement string: the definition's own `$` must stay as written.
  return patched.replace(/^#compdef [^\n]*\n/, (head) => `${head}${definition}`)
}

export async function patchCompletionFiles(autocompleteDir: string, bin: string): Promise<void> {
  const targets: Array<[string, (script: string, bin: string) => string]> = [
    [path.join(autocompleteDir, 'functions', 'bash', `${bin}.bash`), patchBash],
    [path.join(autocompleteDir, 'functions', 'zsh', `_${bin}`), patchZsh],
  ]
  for (const [file, patch] of targets) {
    let script: string
    try {
      script = await fs.readFile(file, 'utf8')
    } catch {
      continue
    }
    const patched = patch(script, bin)
    if (patched !== script) await fs.writeFile(file, patched)
  }
}

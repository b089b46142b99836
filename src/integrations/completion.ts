import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * @oclif/plugin-autocomplete writes static completion scripts; env names change, so the
 * scripts are patched to ask `tokenctl env list --names` for `-e/--env` and for the
 * argument of `env use|show|remove`. Patching is idempotent (a marker line says it is done).
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
    COMPREPLY=($(compgen -W "$(${bin} env list --names 2>/dev/null)" -- "$cur"))
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
  patched = patched.replace(new RegExp(`(\\n\\s*"(${ENV_COMMANDS.join('|')})"\\)\\n[\\s\\S]*?)"\\*: :_files"`, 'g'), `$1"1: :${helper}"`)
  const definition = `${MARKER}\n${helper}() {\n  compadd -- \${(f)"$(${bin} env list --names 2>/dev/null)"}\n}\n`
  return patched.replace(/^(#compdef [^\n]*\n)/, `$1${definition}`)
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

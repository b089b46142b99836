import type { Hook } from '@oclif/core'
import path from 'node:path'

/** After the autocomplete plugin (re)writes its scripts, teach them env names. */
const hook: Hook<'postrun'> = async function ({ Command, config }) {
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return
  const { patchCompletionFiles } = await import('../integrations/completion.js')
  await patchCompletionFiles(path.join(config.cacheDir, 'autocomplete'), config.bin)
}

export default hook

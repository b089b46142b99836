// Loaded with `node --import` by the fast-path test: at exit, records in $WHICH_PATH_FILE
// whether oclif (CommonJS, so in require.cache) was loaded, i.e. which path served the run.
import fs from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
process.on('exit', () => {
  const full = Object.keys(require.cache).some((file) => file.includes(`${'@oclif'}/core`))
  fs.writeFileSync(process.env.WHICH_PATH_FILE, full ? 'full' : 'fast')
})

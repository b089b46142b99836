/**
 * The helper line setup-git writes into git's config, and how `status` reads it back
 * (docs/design.md#setup-git): pure functions, no git.
 */
import { helperCommand, parseHelperCommand } from '../../src/integrations/git-config.js'

const HOSTILE = [
  '/usr/bin/node',
  '/home/a b/.nvm/versions/node/v24.1.0/bin/node',
  `/tmp/n o$de '$(touch x)' "\`touch y\`" \\ ;touch z`,
  "/it's/node",
]

describe('the helper line', () => {
  test.each(HOSTILE)('names %j and the script as single-quoted words, and reads back as written', (node) => {
    const script = `${node}/../lib/tokenctl/bin/run.js`
    const line = helperCommand({ node, script }, 'prod-eu', 'linux')
    expect(line.startsWith(`!'`)).toBe(true)
    expect(line.endsWith(` git-credential -e 'prod-eu'`)).toBe(true)
    expect(parseHelperCommand(line)).toEqual({ node, script, envName: 'prod-eu' })
  })

  test('on Windows both paths are written with forward slashes, for the sh git for Windows runs it in', () => {
    const line = helperCommand(
      {
        node: 'C:\\Program Files\\nodejs\\node.exe',
        script: 'C:\\Users\\a\\AppData\\Roaming\\npm\\node_modules\\tokenctl\\bin\\run.js',
      },
      'prod',
      'win32',
    )
    expect(line).toBe(
      "!'C:/Program Files/nodejs/node.exe' 'C:/Users/a/AppData/Roaming/npm/node_modules/tokenctl/bin/run.js' git-credential -e 'prod'",
    )
  })

  test('the older line, which named the script alone, is read as ours without a Node path', () => {
    expect(parseHelperCommand("!'/usr/local/bin/tokenctl' git-credential -e 'prod'")).toEqual({
      script: '/usr/local/bin/tokenctl',
      envName: 'prod',
    })
  })

  test.each([
    '',
    'store',
    'cache --timeout=300',
    '!gh auth git-credential',
    "!'/x/node' '/x/run.js' git-credential -e",
    "!'/x/node' '/x/run.js' other -e 'prod'",
    '!"/x/node" "/x/run.js" git-credential -e prod',
    "!'/x/node' '/x/run.js' 'unclosed git-credential -e 'prod'",
    "!'/a' '/b' '/c' git-credential -e 'prod'",
  ])('%j is not a tokenctl line', (value) => {
    expect(parseHelperCommand(value)).toBeUndefined()
  })
})

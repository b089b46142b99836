/**
 * The lint holds the layers (docs/architecture.md#layers): an import that runs the wrong
 * way fails it, and the code as it stands passes. Planted files are linted from memory,
 * under the path they would have, so nothing is written into src/.
 */
import { ESLint } from 'eslint'
import { ROOT } from '../support/cli.js'

// Only the layer rule runs: the rest of the lint is npm run lint's job, and costs seconds here.
const eslint = new ESLint({ cwd: ROOT, ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports' })

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` })
  return result!.messages
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message)
}

describe('the lint holds the layers', () => {
  test.each([
    ['src/base/planted.ts', "import { Session } from '../core/session.js'\nexport const planted = Session\n"],
    ['src/util/planted.ts', "export { TokenctlError } from '../base/errors.js'\n"],
    [
      'src/stores/planted.ts',
      "import type { Protocol } from '../protocols/types.js'\nexport type Planted = Protocol\n",
    ],
    ['src/protocols/planted.ts', "import { openStore } from '../stores/open.js'\nexport const planted = openStore\n"],
    [
      'src/core/planted.ts',
      "import { BaseCommand } from '../cli/base-command.js'\nexport const planted = BaseCommand\n",
    ],
    ['src/cli/planted.ts', "import Token from '../commands/token.js'\nexport const planted = Token\n"],
    ['src/protocols/planted.ts', "import '../../src/core/context.js'\n"],
  ])('%s importing upward (or beside) fails: %j', async (filePath, code) => {
    const errors = await layerErrors(filePath, code)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('docs/architecture.md#layers')
  })

  test.each([
    [
      'src/core/planted.ts',
      "import { openStore } from '../stores/open.js'\nimport { TokenctlError } from '../base/errors.js'\nexport const planted = [openStore, TokenctlError]\n",
    ],
    [
      'src/commands/env/planted.ts',
      "import { BaseCommand } from '../../cli/base-command.js'\nexport const planted = BaseCommand\n",
    ],
    ['src/base/planted.ts', "import { redact } from '../util/redact.js'\nexport const planted = redact\n"],
  ])('%s importing downward passes', async (filePath, code) => {
    expect(await layerErrors(filePath, code)).toEqual([])
  })

  test('src/ as it stands passes', async () => {
    const results = await eslint.lintFiles(['src'])
    const wrongWay = results.flatMap((result) =>
      result.messages
        .filter((message) => message.ruleId === 'no-restricted-imports')
        .map((message) => `${result.filePath}:${message.line}`),
    )
    expect(wrongWay).toEqual([])
  })
})

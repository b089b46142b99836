/** Colour on a terminal: NO_COLOR and FORCE_COLOR, and the exact escape codes (a pipe gets none: the e2e suites read plain stderr). */
import { colourFor } from '../../src/cli/output.js'

describe('colourFor', () => {
  test('FORCE_COLOR gives the basic codes, each closed by its own reset', () => {
    const colour = colourFor(2, { FORCE_COLOR: '1' })
    expect(colour.red('Error:')).toBe('\u001b[31mError:\u001b[39m')
    expect(colour.yellow('Warning:')).toBe('\u001b[33mWarning:\u001b[39m')
    expect(colour.bold('prod')).toBe('\u001b[1mprod\u001b[22m')
  })

  test.each([
    ['NO_COLOR', { NO_COLOR: '1' }],
    ['FORCE_COLOR=0', { FORCE_COLOR: '0' }],
    ['FORCE_COLOR=false', { FORCE_COLOR: 'false' }],
  ])('%s gives plain text', (_name, environ) => {
    const colour = colourFor(1, environ)
    expect([colour.red('a'), colour.yellow('b'), colour.bold('c')]).toEqual(['a', 'b', 'c'])
  })

  test('FORCE_COLOR wins over NO_COLOR', () => {
    expect(colourFor(1, { FORCE_COLOR: '1', NO_COLOR: '1' }).red('a')).toBe('\u001b[31ma\u001b[39m')
  })
})

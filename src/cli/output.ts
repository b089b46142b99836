import { isatty } from 'node:tty'

import type { Environ } from '../base/paths.js'

/**
 * Colour only on a TTY; NO_COLOR turns it off and FORCE_COLOR on (FORCE_COLOR wins,
 * as the two conventions agree). Asked of a file descriptor, not a stream: building
 * process.stdout costs time that a command printing no colour need not spend.
 */
export function colourFor(fd: 1 | 2, environ: Environ = process.env): Colour {
  const force = environ.FORCE_COLOR
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return ANSI
  if (environ.NO_COLOR || force === '0' || force === 'false') return PLAIN
  return isatty(fd) ? ANSI : PLAIN
}

/** The three styles tokenctl uses: a few lines, where a colour library would be loaded on the start-up path. */
export interface Colour {
  red(text: string): string
  yellow(text: string): string
  bold(text: string): string
}

/** The basic 16-colour codes every terminal knows, each closed by its own reset. */
const ANSI: Colour = {
  red: (text) => `\u001b[31m${text}\u001b[39m`,
  yellow: (text) => `\u001b[33m${text}\u001b[39m`,
  bold: (text) => `\u001b[1m${text}\u001b[22m`,
}

const PLAIN: Colour = { red: (text) => text, yellow: (text) => text, bold: (text) => text }

/** Plain text table with left-aligned columns; the last column is not padded. */
export function table(rows: string[][], widths = columnWidths(rows)): string {
  // Padded by what shows: a bold name is longer in bytes than on screen.
  const pad = (cell: string, width: number) => cell + ' '.repeat(Math.max(0, width - visibleLength(cell)))
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function columnWidths(rows: string[][]): number[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))))
  return widths
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

/**
 * The exit codes section of a command's --help, built from the one table of what each code
 * means (EXIT_CODE_MEANINGS, docs/design.md#output-and-exit-codes). Part of the command's
 * description, so that --help, oclif.manifest.json and the generated command reference all
 * show it. A command lists the codes it can end with and may add its own detail after the
 * table's words; it never rewords them.
 */
import { CHILD_EXIT_CODE_MEANING, EXIT_CODE_MEANINGS, type ExitCodeValue } from '../base/errors.js'

/** A code, or a code with what it means for this command in particular. */
export type ExitCodeEntry = ExitCodeValue | readonly [ExitCodeValue, string]

export const EXIT_CODES_HEADING = 'Exit codes:'
/** The last line of `exec`'s section: any other code is its command's. */
export const CHILD_EXIT_CODE_LINE = `Otherwise ${CHILD_EXIT_CODE_MEANING}.`

export interface ExitCodesOptions {
  /** The command ends with its child's code when it gets that far (`exec`). */
  child?: boolean
}

/**
 * "Exit codes:" and one line per code, code first. oclif's help drops leading spaces, so the
 * lines start at the code, padded so that the meanings line up.
 */
export function exitCodesHelp(codes: readonly ExitCodeEntry[], options: ExitCodesOptions = {}): string {
  const lines = codes.map((entry) => {
    const [code, detail] = typeof entry === 'number' ? [entry, undefined] : entry
    return `${String(code).padEnd(3)}  ${EXIT_CODE_MEANINGS[code]}${detail ? `: ${detail}` : ''}`
  })
  return [EXIT_CODES_HEADING, ...lines, ...(options.child ? [CHILD_EXIT_CODE_LINE] : [])].join('\n')
}

/** A command's description with its exit codes at the end. */
export function withExitCodes(
  description: string,
  codes: readonly ExitCodeEntry[],
  options: ExitCodesOptions = {},
): string {
  return `${description}\n\n${exitCodesHelp(codes, options)}`
}

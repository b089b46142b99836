/**
 * The command line that runs a Windows batch file (`.cmd`, `.bat`) with a list of arguments
 * such that no argument can run a command of its own.
 *
 * Windows runs a batch file through cmd.exe, which reads the whole line as a command before
 * the script sees any argument: `&`, `|`, `<`, `>`, `^`, `(`, `)` outside double quotes,
 * and `%NAME%` anywhere, are cmd's, not the argument's. The quoting every other program
 * expects (a `"` escaped as `\"`) ends cmd's quoted stretch early, so an argument such as
 * `\" & calc` runs calc (the "BatBadBut" class of bug: CVE-2024-24576 in Rust,
 * CVE-2024-27980 in Node). This follows what Rust's standard library does since its fix:
 *
 * - every argument, and the script's path, goes inside double quotes, so cmd's quote state
 *   is "inside" over all of it and `& | < > ^ ( )` are plain characters;
 * - an embedded `"` is doubled (`""`): for cmd that closes and at once reopens the quotes,
 *   with nothing between them; for the program the script hands `%*` to (the C runtime's
 *   rules, as node, npm and most tools read them) a doubled quote inside quotes is one
 *   literal `"`. Backslashes just before a `"` are doubled so that they stay backslashes;
 * - backslashes before the closing quote are doubled, or the last one would escape it;
 * - `%` becomes `%%cd:~,%`: cmd reads `%` with nothing after it as itself, then
 *   `%cd:~,%` as an empty substring of the current dir, so no two `%` of the argument ever
 *   pair into a `%NAME%` expansion (`%PATH%` arrives as `%PATH%`);
 * - `!` needs nothing: the line is run with delayed expansion off (`/v:OFF`), and
 *   command extensions on (`/e:ON`), which the `%cd:~,%` substring needs;
 * - a line feed, carriage return or NUL cannot be passed at all (cmd ends the command
 *   there): such an argument is refused, never mangled.
 *
 * Every argument is quoted, even a plain word: a script reading `%1` gets `"word"`, as
 * from cross-spawn; `%~1` gives the bare word.
 */

/** cmd.exe's switches: no AutoRun commands, extensions on, delayed expansion off, the line as it is. */
export const CMD_SWITCHES: readonly string[] = ['/d', '/e:ON', '/v:OFF', '/s', '/c']

/** An argument (1-based position) or the script's path (position 0) that cannot be passed safely. */
export class UnsafeBatchArgument extends Error {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(position === 0 ? `The batch file's path ${reason}.` : `Argument ${position} ${reason}.`)
    this.name = 'UnsafeBatchArgument'
  }
}

const UNPASSABLE = /[\n\r\0]/

/** `%` written so that cmd never expands it (see above). */
function percentSafe(text: string): string {
  return text.replaceAll('%', '%%cd:~,%')
}

/** One argument, quoted for cmd and for the C runtime of the program after it. */
export function quoteBatchArgument(argument: string, position: number): string {
  if (UNPASSABLE.test(argument)) {
    throw new UnsafeBatchArgument(position, 'holds a line break or NUL, which a batch file cannot be given')
  }
  let quoted = '"'
  let backslashes = 0
  for (const char of argument) {
    if (char === '\\') {
      backslashes++
      quoted += char
      continue
    }
    if (char === '"') quoted += '\\'.repeat(backslashes) + '""'
    else quoted += percentSafe(char)
    backslashes = 0
  }
  return `${quoted}${'\\'.repeat(backslashes)}"`
}

/**
 * What follows `cmd.exe /d /e:ON /v:OFF /s /c`: the script and its arguments, each quoted,
 * the whole in one more pair of quotes that `/s` strips. To be passed verbatim
 * (`windowsVerbatimArguments`), since Node's own quoting is the C runtime's.
 */
export function batchCommandLine(script: string, args: readonly string[]): string {
  // A Windows file name holds no `"`, and one ending in `\` would escape its closing quote.
  if (script.includes('"') || script.endsWith('\\') || UNPASSABLE.test(script)) {
    throw new UnsafeBatchArgument(0, 'is not a file name Windows allows')
  }
  const words = [`"${percentSafe(script)}"`, ...args.map((argument, index) => quoteBatchArgument(argument, index + 1))]
  return `"${words.join(' ')}"`
}

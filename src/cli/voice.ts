import type { Environ } from '../base/paths.js'
import { escapeInvisibleInJson, withoutInvisible } from '../util/sanitize.js'
import { writeStdout } from './fd-output.js'
import { type Colour, colourFor } from './output.js'
import { toStderr } from './stderr.js'

/** Where a voice's words go: stdout (1) or stderr (2). */
export type Sink = (fd: 1 | 2, text: string) => void

const direct: Sink = (fd, text) => (fd === 1 ? writeStdout(text) : toStderr(text))

/**
 * How a command speaks (docs/design.md#commands): its result on stdout, exactly as given; information and
 * warnings on stderr, silenced by --quiet; colour only where a person reads. Free of oclif,
 * so the fast path of bin/run.js and the full CLI say the same things the same way; the
 * fast path collects what it would say and lets it out only once it knows it can finish.
 */
export class Voice {
  private stderrColour?: Colour

  constructor(
    private readonly quiet: () => boolean,
    private readonly environ: Environ = process.env,
    private readonly sink: Sink = direct,
  ) {}

  out(text: string): void {
    this.sink(1, text.endsWith('\n') ? text : `${text}\n`)
  }

  outJson(value: unknown): void {
    // Valid JSON holding the very values, with nothing in it that a terminal hides or obeys.
    this.out(escapeInvisibleInJson(JSON.stringify(value, null, 2)))
  }

  /** Information for a person: stderr, silenced by --quiet. */
  info(message: string): void {
    if (!this.quiet()) this.say(message)
  }

  warning(message: string): void {
    if (!this.quiet()) this.say(`${this.colour().yellow('Warning:')} ${message}`)
  }

  /** Errors show whatever --quiet says. */
  error(message: string, ...more: string[]): void {
    this.say(`${this.colour().red('Error:')} ${message}`)
    for (const line of more) this.say(line)
  }

  /** Colour for what goes to stdout (a table on a terminal). */
  stdoutColour(): Colour {
    return colourFor(1, this.environ)
  }

  /**
   * Every line for a person loses the bidi, zero-width and line-separator characters, a
   * last line of defence for a piece of outside text that missed `printable()`: they would
   * let it reorder or hide the rest of the line. Control characters stay: the colour
   * escapes and newlines here are tokenctl's own.
   */
  private say(line: string): void {
    this.sink(2, `${withoutInvisible(line)}\n`)
  }

  private colour(): Colour {
    return (this.stderrColour ??= colourFor(2, this.environ))
  }
}

/** A sink that keeps everything until `flush`. */
export function collectingSink(): Sink & { flush: () => void } {
  const said: Array<[1 | 2, string]> = []
  const sink = (fd: 1 | 2, text: string) => void said.push([fd, text])
  return Object.assign(sink, { flush: () => said.splice(0).forEach(([fd, text]) => direct(fd, text)) })
}

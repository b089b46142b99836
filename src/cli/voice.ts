import type { ChalkInstance } from 'chalk'

import type { Environ } from '../core/paths.js'
import { writeStdout } from './fd-output.js'
import { colourFor } from './output.js'
import { toStderr } from './stderr.js'

/** Where a voice's words go: stdout (1) or stderr (2). */
export type Sink = (fd: 1 | 2, text: string) => void

const direct: Sink = (fd, text) => (fd === 1 ? writeStdout(text) : toStderr(text))

/**
 * How a command speaks (SPEC §3): its result on stdout, exactly as given; information and
 * warnings on stderr, silenced by --quiet; colour only where a person reads. Free of oclif,
 * so the fast path of bin/run.js and the full CLI say the same things the same way; the
 * fast path collects what it would say and lets it out only once it knows it can finish.
 */
export class Voice {
  private stderrColour?: ChalkInstance

  constructor(
    private readonly quiet: () => boolean,
    private readonly environ: Environ = process.env,
    private readonly sink: Sink = direct,
  ) {}

  out(text: string): void {
    this.sink(1, text.endsWith('\n') ? text : `${text}\n`)
  }

  outJson(value: unknown): void {
    this.out(JSON.stringify(value, null, 2))
  }

  /** Information for a person: stderr, silenced by --quiet. */
  info(message: string): void {
    if (!this.quiet()) this.sink(2, `${message}\n`)
  }

  warning(message: string): void {
    if (!this.quiet()) this.sink(2, `${this.colour().yellow('Warning:')} ${message}\n`)
  }

  /** Errors show whatever --quiet says. */
  error(message: string, ...more: string[]): void {
    this.sink(2, `${this.colour().red('Error:')} ${message}\n`)
    for (const line of more) this.sink(2, `${line}\n`)
  }

  /** Colour for what goes to stdout (a table on a terminal). */
  stdoutColour(): ChalkInstance {
    return colourFor(1, this.environ)
  }

  private colour(): ChalkInstance {
    return (this.stderrColour ??= colourFor(2, this.environ))
  }
}

/** A sink that keeps everything until `flush`. */
export function collectingSink(): Sink & { flush: () => void } {
  const said: Array<[1 | 2, string]> = []
  const sink = (fd: 1 | 2, text: string) => void said.push([fd, text])
  return Object.assign(sink, { flush: () => said.splice(0).forEach(([fd, text]) => direct(fd, text)) })
}

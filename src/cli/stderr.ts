import { rememberVariableSecrets } from '../base/credentials.js'
import { redactAll } from '../base/secrets.js'

/**
 * The one way tokenctl writes to stderr: messages, warnings, errors and their fixes, stack
 * traces. Every byte passes the redaction that knows every secret the process holds
 * (docs/design.md#secrets-never-leak). Free of oclif, so the fast path can write through it too.
 */
export function toStderr(text: string): void {
  process.stderr.write(redactAll(text))
}

const GUARDED = Symbol.for('tokenctl.stderr-guarded')

/**
 * The safety net under toStderr, set up by bin/run.js before anything else runs: what
 * others write to stderr — oclif's own errors and help, a prompt library, Node itself —
 * is redacted too, and the credential variables are known as secrets from the first byte on.
 * A chunk without a secret is passed on untouched (a Buffer stays the same Buffer).
 */
export function guardStderr(environ: NodeJS.ProcessEnv = process.env): void {
  rememberVariableSecrets(environ)
  // Node builds process.stderr on first use, and building it costs a few milliseconds that
  // a cache hit, which never writes to stderr, need not pay: the guard goes on when it is built.
  const descriptor = Object.getOwnPropertyDescriptor(process, 'stderr')
  if (!descriptor?.get || !descriptor.configurable) return guard(process.stderr)
  const build = descriptor.get
  Object.defineProperty(process, 'stderr', {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      const stream = build.call(process) as NodeJS.WriteStream
      guard(stream)
      return stream
    },
  })
}

function guard(stream: NodeJS.WriteStream & { [GUARDED]?: boolean }): void {
  if (stream[GUARDED]) return
  stream[GUARDED] = true
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(redactAll(chunk), ...rest)
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk).toString('utf8')
      const clean = redactAll(text)
      return write(clean === text ? chunk : clean, ...rest)
    }
    return write(chunk, ...rest)
  }) as typeof stream.write
}

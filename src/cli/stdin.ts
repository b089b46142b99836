/**
 * stdin can be read once. The fast path of bin/run.js may read it and then hand over to
 * the full CLI; what it read waits on a global for the command, because the fast path is
 * a bundle of its own and does not share this module's instance with the full CLI.
 */
const KEY = Symbol.for('tokenctl.stdin')
type Holder = { [KEY]?: Buffer }

export function keepStdin(buffer: Buffer): void {
  ;(globalThis as Holder)[KEY] = buffer
}

/** All of stdin, or undefined when it is larger than `max` bytes (not read past that). */
export async function readStdinUpTo(max: number): Promise<Buffer | undefined> {
  const preRead = (globalThis as Holder)[KEY]
  if (preRead !== undefined) return preRead.length > max ? undefined : preRead
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size > max) {
      keepStdin(Buffer.concat(chunks))
      return undefined
    }
  }
  const all = Buffer.concat(chunks)
  keepStdin(all)
  return all
}

import fs from 'node:fs'

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
  const add = (chunk: Buffer) => {
    chunks.push(chunk)
    size += chunk.length
    return size > max
  }
  const tooLarge = () => {
    keepStdin(Buffer.concat(chunks))
    return undefined
  }
  // Read synchronously while the descriptor lets us: building process.stdin costs a few ms of
  // every `git credential get` (a pipe is a net.Socket). A non-blocking pipe (EAGAIN), or
  // anything odd, goes on through the stream.
  const buffer = Buffer.allocUnsafe(64 * 1024)
  for (;;) {
    let read: number
    try {
      read = fs.readSync(0, buffer, 0, buffer.length, null)
    } catch (error) {
      // Windows says EOF where others return 0.
      if ((error as NodeJS.ErrnoException).code === 'EOF') read = 0
      else break
    }
    if (read === 0) return kept(Buffer.concat(chunks))
    if (add(Buffer.from(buffer.subarray(0, read)))) return tooLarge()
  }
  for await (const chunk of process.stdin) {
    if (add(chunk as Buffer)) return tooLarge()
  }
  return kept(Buffer.concat(chunks))
}

function kept(all: Buffer): Buffer {
  keepStdin(all)
  return all
}

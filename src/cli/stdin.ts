/**
 * stdin can be read once. The fast path of bin/run.js may read it and then hand over to
 * the full CLI; what it read waits here for the command.
 */
let preRead: Buffer | undefined

export function keepStdin(buffer: Buffer): void {
  preRead = buffer
}

/** All of stdin, or undefined when it is larger than `max` bytes (not read past that). */
export async function readStdinUpTo(max: number): Promise<Buffer | undefined> {
  if (preRead !== undefined) return preRead.length > max ? undefined : preRead
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size > max) {
      preRead = Buffer.concat(chunks)
      return undefined
    }
  }
  preRead = Buffer.concat(chunks)
  return preRead
}

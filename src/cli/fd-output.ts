import fs from 'node:fs'

const waiter = new Int32Array(new SharedArrayBuffer(4))

/**
 * All of `text` to a file descriptor, synchronously. Not process.stdout: building that
 * stream costs a few milliseconds of every start (a pipe is a net.Socket), which the fast
 * path of bin/run.js cannot spare, and the full path writes the same way so that both
 * behave alike. A non-blocking pipe that is full (EAGAIN) is waited on; a reader that has
 * gone (EPIPE, as in `tokenctl token | head -c0`) is nobody left to tell.
 */
export function writeFd(fd: number, text: string): void {
  let bytes = Buffer.from(text, 'utf8')
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(fs.writeSync(fd, bytes))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EPIPE') return
      if (code !== 'EAGAIN') throw error
      Atomics.wait(waiter, 0, 0, 5)
    }
  }
}

/** The result of a command: stdout. */
export function writeStdout(text: string): void {
  writeFd(1, text)
}

import { type CallState, performCall } from './keychain-calls.js'
import { KeychainRefusal, type KeychainRequest, type KeychainTransport } from './keychain-transport.js'

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never

/** `process.execve` (Node 22.15+, 23.11+; not on Windows), or undefined. */
export function execveOf(proc: NodeJS.Process = process): Execve | undefined {
  const execve = (proc as { execve?: Execve }).execve
  return typeof execve === 'function' ? execve.bind(proc) : undefined
}

/**
 * The calls run in this process, on libuv's threadpool (keychain-calls.ts keeps them off
 * the main thread), which spares every call the start of a second Node process. A call that
 * never returns leaves a threadpool thread that Node would wait for at exit, for good; so
 * once one is abandoned, the process ends through `process.execve` (leaveHungCall).
 */
export class ThreadTransport implements KeychainTransport {
  private readonly state: CallState = { answered: false }

  constructor(
    private readonly os: NodeJS.Platform,
    private readonly execve: Execve,
  ) {}

  async call(request: KeychainRequest): Promise<unknown> {
    try {
      return await performCall(request, this.os, this.state)
    } catch (error) {
      throw new KeychainRefusal(error instanceof Error ? error.message : String(error))
    }
  }

  abandon(): void {
    leaveHungCall(this.execve)
  }

  close(): void {}
}

let leaving = false

/**
 * The hung call keeps the event loop alive and `process.exit` would join its thread, so:
 * once nothing but that call is left to do (no handle, request or timer other than the
 * watch's own), the process exits as it would have; its 'exit' listeners (locks to
 * release) run as usual, and the last of them replaces the process with one that only
 * exits with the same code. The same listener covers an explicit `process.exit()`.
 */
export function leaveHungCall(execve: Execve): void {
  if (leaving) return
  leaving = true
  const finish = (code: number | undefined): void => {
    // Listeners added after this one have not run yet; execve runs none.
    const listeners = process.listeners('exit')
    for (const listener of listeners.slice(listeners.indexOf(finish) + 1)) listener.call(process, code ?? 0)
    const status = code ?? (typeof process.exitCode === 'number' ? process.exitCode : 0)
    execve(process.execPath, [process.execPath, '-e', `process.exit(${status})`], {})
  }
  process.on('exit', finish)
  const watch = setInterval(() => {
    if (!onlyThisTimerLeft()) return
    clearInterval(watch)
    process.exit()
  }, 20)
}

/**
 * What would end the event loop if the hung call did not hold it: no handle, request or
 * timer but the watch's own timer; stdout and stderr count only while they still have
 * bytes to write.
 */
function onlyThisTimerLeft(): boolean {
  const resources = process.getActiveResourcesInfo()
  const timers = resources.filter((kind) => kind === 'Timeout').length
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? []
  const idleStdio = handles.filter(
    (handle) =>
      (handle === process.stdout || handle === process.stderr) && (handle as NodeJS.WriteStream).writableLength === 0,
  ).length
  return timers <= 1 && resources.length - timers - idleStdio <= 0
}

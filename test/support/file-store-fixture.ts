import { type ApiServer, type ApiServerOptions, startApiServer } from './api-server.js'
import { type RunResult, Sandbox } from './cli.js'

/** A test server or provider the fixture closes after the test. */
export interface Closable {
  close(): Promise<unknown>
}

export interface FileStoreFixture {
  /** This test's sandbox (a fresh one per test). */
  readonly sandbox: Sandbox
  /** Close `server` after the test, whatever the test did to it. */
  track<T extends Closable>(server: T): T
  /** An `api` test server with the fixture's defaults, closed after the test. */
  serve(options?: ApiServerOptions): Promise<ApiServer>
  /** The built CLI in the sandbox, with the plain-file store unless `env` says otherwise. */
  run(args: string[], env?: Record<string, string | undefined>, input?: string): Promise<RunResult>
}

/**
 * What most e2e suites of the token lifecycle share: a fresh sandbox for every test, the
 * test servers it started closed after it (closing one a test already closed is no
 * error), and runs with the plain-file store, so the store is a file the test can read.
 * Call it at the top of a test file: it registers the beforeEach and afterEach.
 */
export function useFileStoreFixture(defaults: ApiServerOptions = {}): FileStoreFixture {
  let sandbox: Sandbox | undefined
  let open: Closable[] = []
  beforeEach(() => {
    sandbox = new Sandbox()
    open = []
  })
  afterEach(async () => {
    await Promise.all(open.map((server) => server.close().catch(() => undefined)))
    sandbox?.cleanup()
  })
  const current = (): Sandbox => {
    if (!sandbox) throw new Error('the fixture is used outside a test')
    return sandbox
  }
  const track = <T extends Closable>(server: T): T => {
    open.push(server)
    return server
  }
  return {
    get sandbox() {
      return current()
    },
    track,
    serve: async (options = {}) => track(await startApiServer({ ...defaults, ...options })),
    run: (args, env = {}, input) => current().run(args, { env: { TOKENCTL_STORE: 'file', ...env }, input }),
  }
}

/**
 * A real git smart-HTTP server for e2e tests (docs/design.md#git-and-curl): a Node http server on 127.0.0.1
 * that demands HTTP Basic auth (or a Bearer token, as git >= 2.46 may send) on every request and hands the authenticated ones to
 * `git http-backend` as CGI. It serves one bare repository, `repo.git`, holding one
 * initial commit on `main`, with pushes enabled.
 *
 * The password is checked by `isValidToken` (a test passes its API server's
 * `isAccessTokenActive`), so git only gets in with an access token the auth server still
 * accepts: revoke the tokens server-side and the next request is a 401.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { cleanEnv } from './cli.js'
import { listenOnLoopback } from './listen.js'

const run = promisify(execFile)

export interface AuthAttempt {
  /**
   * `Basic` (user name and password: what git sends up to 2.45), or `Bearer`: git >= 2.46
   * sends `Authorization: Bearer T` when the helper answers `authtype=Bearer` (docs/design.md#git-and-curl).
   */
  scheme: 'Basic' | 'Bearer'
  /** The Basic-auth user name git sent; '' for Bearer. */
  user: string
  /** The password (Basic) or the token (Bearer) git sent: kept so a test can compare it with the stored token. */
  password: string
  /** Whether `isValidToken` accepted the password. */
  ok: boolean
  method: string
  /** Request path with the query string. */
  url: string
}

export interface GitServerOptions {
  /** Decides whether a Basic-auth password is a valid access token. */
  isValidToken: (token: string) => boolean
}

export interface GitServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  /** `url + '/repo.git'`. */
  readonly repoUrl: string
  /** `127.0.0.1:PORT`: the host (with port) git's credential requests name. */
  readonly host: string
  /** Every request that carried credentials, in order. */
  readonly authAttempts: AuthAttempt[]
  /** How many requests were answered 401 (missing or refused credentials). */
  readonly unauthorized: number
  /** The bare repository on disk. */
  readonly repoDir: string
  /** Stops listening, ends open sockets and CGI processes, removes the repository. */
  close(): Promise<void>
}

/** git with no user or system config of the machine running the tests. */
function isolatedGitEnv(home: string): Record<string, string> {
  return cleanEnv({
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test Seeder',
    GIT_AUTHOR_EMAIL: 'seeder@example.test',
    GIT_COMMITTER_NAME: 'Test Seeder',
    GIT_COMMITTER_EMAIL: 'seeder@example.test',
  })
}

/** Throws a clear error when git (or its http-backend) is missing: the suites need it. */
export async function gitHttpBackendPath(): Promise<string> {
  let execPath: string
  try {
    execPath = (await run('git', ['--exec-path'])).stdout.trim()
  } catch (error) {
    throw new Error(`git is required for this test (install git): ${(error as Error).message}`)
  }
  const backend = path.join(execPath, 'git-http-backend')
  if (!fs.existsSync(backend)) throw new Error(`git-http-backend not found at ${backend} (install git's full package)`)
  return backend
}

async function seedRepository(root: string): Promise<string> {
  const env = isolatedGitEnv(root)
  const bare = path.join(root, 'repo.git')
  const work = path.join(root, 'seed')
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], { env })
  await run('git', ['config', 'http.receivepack', 'true'], { env, cwd: bare })
  await run('git', ['init', '--quiet', '--initial-branch=main', work], { env })
  fs.writeFileSync(path.join(work, 'README.md'), '# test repository\n')
  await run('git', ['add', 'README.md'], { env, cwd: work })
  await run('git', ['commit', '--quiet', '-m', 'initial commit'], { env, cwd: work })
  await run('git', ['push', '--quiet', bare, 'main'], { env, cwd: work })
  fs.rmSync(work, { recursive: true, force: true })
  return bare
}

function parseAuthorization(
  header: string | undefined,
): { scheme: 'Basic' | 'Bearer'; user: string; password: string } | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (bearer?.[1]) return { scheme: 'Bearer', user: '', password: bearer[1] }
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { scheme: 'Basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Finds the end of the CGI header block: `\r\n\r\n` or `\n\n`, whichever comes first. */
function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n')
  const lf = buffer.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { at: crlf, length: 4 }
  if (lf >= 0) return { at: lf, length: 2 }
  return undefined
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const backend = await gitHttpBackendPath()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-git-server-'))
  let repoDir: string
  try {
    repoDir = await seedRepository(root)
  } catch (error) {
    fs.rmSync(root, { recursive: true, force: true })
    throw error
  }

  const authAttempts: AuthAttempt[] = []
  let unauthorized = 0
  const sockets = new Set<Socket>()
  const children = new Set<ChildProcess>()
  const cgiEnvBase = isolatedGitEnv(root)

  function deny(req: IncomingMessage, res: ServerResponse): void {
    unauthorized++
    // Read and drop the body so the connection stays usable for git's retry.
    req.resume()
    res.writeHead(401, {
      'WWW-Authenticate': 'Basic realm="test"',
      'Content-Type': 'text/plain',
      'Content-Length': '13',
    })
    res.end('Unauthorized\n')
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const credentials = parseAuthorization(req.headers.authorization)
    if (!credentials) return deny(req, res)
    const ok = options.isValidToken(credentials.password)
    authAttempts.push({
      scheme: credentials.scheme,
      user: credentials.user,
      password: credentials.password,
      ok,
      method,
      url,
    })
    if (!ok) return deny(req, res)

    const parsed = new URL(url, 'http://127.0.0.1')
    const environ: Record<string, string> = {
      ...cgiEnvBase,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REQUEST_METHOD: method,
      PATH_INFO: decodeURIComponent(parsed.pathname),
      QUERY_STRING: parsed.search.replace(/^\?/, ''),
      REMOTE_USER: credentials.user || 'bearer',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    }
    if (req.headers['content-type']) environ.CONTENT_TYPE = req.headers['content-type']
    if (req.headers['content-length']) environ.CONTENT_LENGTH = req.headers['content-length']
    if (req.headers['content-encoding']) environ.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
    if (req.headers['git-protocol']) environ.GIT_PROTOCOL = String(req.headers['git-protocol'])

    const child = spawn(backend, [], { env: environ, stdio: ['pipe', 'pipe', 'pipe'] })
    children.add(child)
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    // The backend may exit before reading all of the body (an error answer): not our problem.
    child.stdin.on('error', () => undefined)
    req.pipe(child.stdin)

    let head = Buffer.alloc(0)
    let headersDone = false
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const end = headerEnd(head)
      if (!end) return
      headersDone = true
      let status = 200
      let reason: string | undefined
      const headers: Record<string, string | string[]> = {}
      for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':')
        if (colon <= 0) continue
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === 'status') {
          const match = /^(\d{3})\s*(.*)$/.exec(value)
          if (match) {
            status = Number(match[1])
            reason = match[2] || undefined
          }
        } else {
          const existing = headers[name]
          headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
        }
      }
      if (reason) res.writeHead(status, reason, headers)
      else res.writeHead(status, headers)
      const rest = head.subarray(end.at + end.length)
      if (rest.length) res.write(rest)
    })
    child.on('error', (error) => {
      children.delete(child)
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' })
        res.end(`git http-backend failed to start: ${error.message}\n`)
      } else res.destroy()
    })
    child.on('close', (code) => {
      children.delete(child)
      if (!headersDone) {
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/plain' })
          res.end(`git http-backend exited ${code} without an answer: ${stderr}\n`)
        }
        return
      }
      res.end()
    })
  }

  const server = http.createServer(handle)
  const { port, url } = await listenOnLoopback(server, sockets)

  return {
    url,
    repoUrl: `${url}/repo.git`,
    host: `127.0.0.1:${port}`,
    authAttempts,
    get unauthorized() {
      return unauthorized
    },
    repoDir,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        for (const child of children) child.kill('SIGKILL')
      })
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}

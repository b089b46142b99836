/**
 * A very small Kubernetes API server for kubectl: https on loopback with the test
 * certificate (tls.ts), answering `GET /api/v1/namespaces` with a NamespaceList only for a
 * bearer token the caller says is valid (the login API server's own check), 401 with a
 * Status otherwise; `/version` too (kubectl asks it first), 404 for anything else. Every request is logged with the token it
 * carried.
 */
import fs from 'node:fs'
import https from 'node:https'
import type { Socket } from 'node:net'

import { listenOnLoopback } from './listen.js'
import type { TestCertificate } from './tls.js'

export interface KubeRequest {
  method: string
  path: string
  /** The bearer token sent, if any. */
  token?: string
  status: number
}

export interface KubeApiServer {
  /** `https://localhost:PORT`: the certificate's name. */
  readonly url: string
  readonly requests: KubeRequest[]
  close(): Promise<void>
}

export const NAMESPACES = ['default', 'kube-system', 'tokenctl-test']

export async function startKubeApiServer(options: {
  tls: TestCertificate
  isValidToken: (token: string) => boolean
}): Promise<KubeApiServer> {
  const requests: KubeRequest[] = []
  const sockets = new Set<Socket>()
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    const path = (req.url ?? '').split('?')[0]!
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const send = (status: number, body: unknown) => {
      requests.push({ method: req.method ?? '', path, token, status })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (!token || !options.isValidToken(token)) {
      return send(401, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      })
    }
    if (req.method === 'GET' && path === '/api/v1/namespaces') {
      return send(200, {
        kind: 'NamespaceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '1' },
        items: NAMESPACES.map((name) => ({ metadata: { name }, status: { phase: 'Active' } })),
      })
    }
    // kubectl asks the server's version first.
    if (req.method === 'GET' && path === '/version') {
      return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' })
    }
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 })
  })
  const { port } = await listenOnLoopback(server, sockets)
  return {
    url: `https://localhost:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A kubeconfig with one cluster (this server, trusted through `caFile`) and one context
 * `test`, current, naming no user, and `users: []`: what `kubectl config` leaves before
 * `setup-kube --context test` adds the user.
 */
export function writeTestKubeconfig(file: string, kube: Pick<KubeApiServer, 'url'>, caFile: string): void {
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${kube.url}`,
      `    certificate-authority: ${caFile}`,
      'contexts:',
      '- name: test',
      '  context:',
      '    cluster: test',
      'current-context: test',
      'users: []',
      '',
    ].join('\n'),
  )
}

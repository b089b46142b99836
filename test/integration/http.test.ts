import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

import { ServerError } from '../../src/base/errors.js'
import { postJson } from '../../src/protocols/http.js'

/** A tiny server whose every answer the test decides. */
async function serve(
  handler: http.RequestListener,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0
  const server = http.createServer((req, res) => {
    hits++
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A real CONNECT proxy that counts the tunnels it opens. */
async function proxy(): Promise<{ url: string; tunnels: string[]; close: () => Promise<void> }> {
  const tunnels: string[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client: net.Socket) => {
    tunnels.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

const options = (environ: Record<string, string> = {}) => ({ environ, userAgent: 'tokenctl-test' })

test('posts JSON and reads JSON', async () => {
  const server = await serve((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ got: JSON.parse(body), type: req.headers['content-type'] })),
    )
  })
  try {
    const response = await postJson(`${server.url}/x`, { a: 1 }, options())
    expect(response.status).toBe(200)
    expect(response.json).toEqual({ got: { a: 1 }, type: 'application/json' })
  } finally {
    await server.close()
  }
})

// An --allow-http env: plain http held to loopback never goes through a proxy (trust-loopback.test.ts).
test('HTTP_PROXY is used, and NO_PROXY bypasses it', async () => {
  const server = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  const through = await proxy()
  const allowHttp = (environ: Record<string, string>) => ({ ...options(environ), allowHttp: true })
  try {
    expect((await postJson(`${server.url}/x`, {}, allowHttp({ HTTP_PROXY: through.url }))).status).toBe(200)
    expect(through.tunnels).toEqual([new URL(server.url).host])
    expect(
      (await postJson(`${server.url}/x`, {}, allowHttp({ HTTP_PROXY: through.url, NO_PROXY: '127.0.0.1' }))).status,
    ).toBe(200)
    expect(through.tunnels).toHaveLength(1)
    expect(server.hits()).toBe(2)
  } finally {
    await through.close()
    await server.close()
  }
})

test('redirects are not followed', async () => {
  const server = await serve((req, res) =>
    req.url === '/x' ? res.writeHead(307, { location: '/y' }).end() : res.writeHead(200).end('{}'),
  )
  try {
    expect((await postJson(`${server.url}/x`, {}, options())).status).toBe(307)
    expect(server.hits()).toBe(1)
  } finally {
    await server.close()
  }
})

test('a request that was sent is not replayed: one hit on a timeout, exit 5', async () => {
  const server = await serve(() => {})
  try {
    const error = await postJson(`${server.url}/x`, {}, options({ TOKENCTL_TIMEOUT: '0.5' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ServerError)
    expect((error as ServerError).message).toBe(`${new URL(server.url).host} did not answer within 0.5 s.`)
    expect(server.hits()).toBe(1)
  } finally {
    await server.close()
  }
})

test('a refused connection is retried a bounded number of times, then exit 5', async () => {
  const socket = net.createServer()
  await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  await new Promise((resolve) => socket.close(resolve))
  const error = await postJson(`http://127.0.0.1:${port}/x`, {}, options()).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ServerError)
  expect((error as ServerError).message).toContain('ECONNREFUSED')
})

test('an answer over 1 MiB is cut off and refused', async () => {
  const server = await serve((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(`"${'x'.repeat(2 * 1024 * 1024)}"`),
  )
  try {
    await expect(postJson(`${server.url}/x`, {}, options())).rejects.toThrow('larger than 1 MiB')
  } finally {
    await server.close()
  }
})

test('TOKENCTL_TIMEOUT must be a number of seconds', async () => {
  await expect(postJson('http://127.0.0.1:1/x', {}, options({ TOKENCTL_TIMEOUT: 'soon' }))).rejects.toThrow(
    expect.objectContaining({ exitCode: 2 }),
  )
})

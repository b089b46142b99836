/**
 * Plain http without --allow-http goes only to a connection whose address is loopback: the
 * name (`localhost`, `*.localhost`) proves nothing, since the resolver may answer with any
 * address. /etc/hosts cannot be edited here, so a test resolver stands in for a hijacked
 * one (the `lookup` seam of HttpOptions), answering with this machine's own non-loopback
 * address, where a real server listens: it must get no request at all.
 */
import type dns from 'node:dns'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import os from 'node:os'

import { UsageError } from '../../src/base/errors.js'
import { type HttpOptions, postJson } from '../../src/protocols/http.js'
import type { LookupFunction } from '../../src/util/loopback-lookup.js'

const PASSWORD = 'loopback-test-Pa55word'

/** This machine's first non-loopback IPv4 address: reachable, but not loopback. */
function outsideAddress(): string {
  for (const entries of Object.values(os.networkInterfaces())) {
    const found = entries?.find((entry) => entry.family === 'IPv4' && !entry.internal)
    if (found) return found.address
  }
  throw new Error('this machine has no non-loopback IPv4 address to test with')
}

interface Listening {
  port: number
  /** Every request that arrived, with the body it carried. */
  received: string[]
  close: () => Promise<void>
}

/** A server on every interface (0.0.0.0), so the non-loopback address reaches it too. */
async function serveEverywhere(): Promise<Listening> {
  const received: string[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      received.push(body)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A resolver that answers `names` from the table, in dns.lookup's two shapes. */
function resolver(names: Record<string, string[]>): LookupFunction & { asked: string[] } {
  const asked: string[] = []
  const lookup = (hostname: string, options: dns.LookupOptions, callback: Parameters<LookupFunction>[2]) => {
    asked.push(hostname)
    const addresses = (names[hostname] ?? []).map((address) => ({ address, family: net.isIP(address) }))
    if (addresses.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
      error.code = 'ENOTFOUND'
      return callback(error, '')
    }
    if (options.all) return callback(null, addresses)
    callback(null, addresses[0]!.address, addresses[0]!.family)
  }
  return Object.assign(lookup, { asked })
}

const options = (extra: Partial<HttpOptions> = {}): HttpOptions => ({
  environ: {},
  userAgent: 'tokenctl-test',
  ...extra,
})

let server: Listening
let outside: string

beforeAll(async () => {
  server = await serveEverywhere()
  outside = outsideAddress()
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  server.received.length = 0
})

test('a name that resolves off this machine gets no request: exit 2 naming the host and the address', async () => {
  const lookup = resolver({ 'evil.localhost': [outside] })
  const error = await postJson(
    `http://evil.localhost:${server.port}/auth/token`,
    { password: PASSWORD },
    options({ lookup }),
  ).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(UsageError)
  expect(error).toMatchObject({ exitCode: 2 })
  expect((error as Error).message).toBe(
    `Plain http:// goes only to this machine's loopback, and evil.localhost resolves to ${outside}, which is not a loopback address; nothing was sent.`,
  )
  expect((error as UsageError).fix).toContain('--allow-http')
  expect(lookup.asked).toEqual(['evil.localhost'])
  expect(server.received).toEqual([])
})

test('the same address is reachable: with --allow-http the request arrives (so the refusal above is the check)', async () => {
  const lookup = resolver({ 'evil.localhost': [outside] })
  const response = await postJson(
    `http://evil.localhost:${server.port}/auth/token`,
    { password: PASSWORD },
    options({ lookup, allowHttp: true }),
  )
  expect(response.status).toBe(200)
  expect(server.received).toHaveLength(1)
})

test('`localhost` itself is held to the same rule: answered with a remote address, nothing is sent', async () => {
  const lookup = resolver({ localhost: [outside] })
  await expect(
    postJson(`http://localhost:${server.port}/x`, { password: PASSWORD }, options({ lookup })),
  ).rejects.toThrow(`localhost resolves to ${outside}`)
  expect(server.received).toEqual([])
})

test('one non-loopback address among loopback ones is enough to refuse', async () => {
  const lookup = resolver({ 'mixed.localhost': ['127.0.0.1', outside] })
  await expect(postJson(`http://mixed.localhost:${server.port}/x`, {}, options({ lookup }))).rejects.toMatchObject({
    exitCode: 2,
  })
  expect(server.received).toEqual([])
})

test('an IP literal is checked as it is: a non-loopback one is refused before any connection', async () => {
  await expect(postJson(`http://${outside}:${server.port}/x`, { password: PASSWORD }, options())).rejects.toThrow(
    `Plain http:// goes only to this machine's loopback, and ${outside} is not a loopback address; nothing was sent.`,
  )
  expect(server.received).toEqual([])
})

test('localhost (the system resolver), 127.0.0.1, another 127/8 address and a name resolving to loopback still work', async () => {
  for (const url of [
    `http://localhost:${server.port}/x`,
    `http://127.0.0.1:${server.port}/x`,
    `http://127.0.0.2:${server.port}/x`,
  ]) {
    expect((await postJson(url, {}, options())).status).toBe(200)
  }
  const lookup = resolver({ 'app.localhost': ['127.0.0.1'] })
  expect((await postJson(`http://app.localhost:${server.port}/x`, {}, options({ lookup }))).status).toBe(200)
  expect(server.received).toHaveLength(4)
})

test('a name the resolver does not know: exit 5 (unreachable), nothing sent', async () => {
  const lookup = resolver({})
  await expect(postJson(`http://nowhere.localhost:${server.port}/x`, {}, options({ lookup }))).rejects.toMatchObject({
    exitCode: 5,
  })
  expect(server.received).toEqual([])
})

test('a proxy is never used for plain http held to loopback: the proxy would see the secret in clear, and its 127.0.0.1 is its own', async () => {
  const seen: string[] = []
  const proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  proxy.on('connect', (req, socket: net.Socket) => {
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  try {
    const response = await postJson(
      `http://127.0.0.1:${server.port}/x`,
      { password: PASSWORD },
      options({ environ: { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl } }),
    )
    expect(response.status).toBe(200)
    expect(server.received).toHaveLength(1)
    expect(seen).toEqual([])
  } finally {
    await new Promise((resolve) => {
      proxy.closeAllConnections()
      proxy.close(resolve)
    })
  }
})

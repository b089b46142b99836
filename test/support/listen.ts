import http from 'node:http'
import type { AddressInfo, Server, Socket } from 'node:net'

/**
 * Listen on 127.0.0.1 with a random port, keeping every connection in `sockets` so that
 * close() can end keep-alive and hanging connections instead of waiting for them. Any
 * net.Server: node:http and node:https alike (`url` says http; an https caller makes its own).
 */
export async function listenOnLoopback(server: Server, sockets: Set<Socket>): Promise<{ port: number; url: string }> {
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return { port, url: `http://127.0.0.1:${port}` }
}

/** A loopback port nothing listens on: had, then let go. */
export async function closedPort(): Promise<number> {
  const probe = http.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

import { getJson, UnreachableError } from '../../src/protocols/http.js'
import type { LookupFunction } from '../../src/util/loopback-lookup.js'

/** A port that was just free: connecting to it is refused. */
async function refusedPort(): Promise<number> {
  const socket = net.createServer()
  await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  await new Promise((resolve) => socket.close(resolve))
  return port
}

// Every connection attempt to a name asks the resolver once, so counting lookups counts the
// attempts; the Node line running this test decides how sockets report a refusal.
test('a refused connection is tried three times in all, on every Node line, and says ECONNREFUSED', async () => {
  const port = await refusedPort()
  let attempts = 0
  const lookup: LookupFunction = (_hostname, options, callback) => {
    attempts++
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }])
    else callback(null, '127.0.0.1', 4)
  }
  const error = await getJson(`http://localhost:${port}/x`, { environ: {}, userAgent: 'tokenctl-test', lookup }).catch(
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UnreachableError)
  expect((error as Error).message).toBe(`Could not reach localhost:${port} (ECONNREFUSED).`)
  expect(attempts).toBe(3)
  // Nothing goes on trying after the answer was given.
  await sleep(1500)
  expect(attempts).toBe(3)
})

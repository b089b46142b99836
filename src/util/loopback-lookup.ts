import dns from 'node:dns'
import net from 'node:net'

/** The shape of `dns.lookup` that `net.connect` calls (with `all: true` when it races address families). */
export type LookupFunction = (
  hostname: string,
  options: dns.LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
) => void

let loopback: net.BlockList | undefined

/** 127.0.0.0/8, ::1 and the IPv4-mapped form of 127.0.0.0/8, in any spelling. */
export function isLoopbackAddress(address: string): boolean {
  const family = net.isIP(address)
  if (family === 0) return false
  if (!loopback) {
    loopback = new net.BlockList()
    loopback.addSubnet('127.0.0.0', 8, 'ipv4')
    loopback.addAddress('::1', 'ipv6')
    loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6')
  }
  return loopback.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/** What a refusing lookup saw: the name and the first address that is not loopback. */
export interface Refusal {
  host: string
  address: string
}

/**
 * A lookup that answers only with loopback addresses. It asks `base` for every address of
 * the name and refuses them all (calling `onRefused`, then failing the connection before it
 * is made) when any one is not loopback: a name that may lead off this machine is not one
 * to send plain http to, whatever it is called. The addresses it checked are the ones the
 * connection then uses, so nothing can change between the check and the connect.
 */
export function loopbackOnlyLookup(base: LookupFunction, onRefused: (refusal: Refusal) => void): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '')
      const addresses = typeof found === 'string' ? [{ address: found, family: net.isIP(found) }] : found
      const outside = addresses.find((entry) => !isLoopbackAddress(entry.address))
      if (addresses.length === 0 || outside) {
        onRefused({ host: hostname, address: outside?.address ?? 'no address' })
        const refused: NodeJS.ErrnoException = new Error(`${hostname} does not resolve to a loopback address`)
        refused.code = NOT_LOOPBACK
        return callback(refused, '')
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]!
      callback(null, first.address, first.family)
    })
  }
}

const NOT_LOOPBACK = 'ERR_TOKENCTL_NOT_LOOPBACK'

/** The system resolver (getaddrinfo, /etc/hosts included), as `net.connect` would use it. */
export const systemLookup: LookupFunction = (hostname, options, callback) =>
  dns.lookup(hostname, options, callback as never)

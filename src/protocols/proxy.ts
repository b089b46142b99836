import type { Environ } from '../base/paths.js'

/**
 * The proxy URL for a request to `target`, from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either
 * case). Not asked for plain http held to loopback (protocols/http.ts): those never use a proxy.
 */
export function proxyFor(target: URL, environ: Environ): string | undefined {
  const pick = (name: string) => environ[name] || environ[name.toLowerCase()] || undefined
  const proxy = target.protocol === 'https:' ? (pick('HTTPS_PROXY') ?? pick('HTTP_PROXY')) : pick('HTTP_PROXY')
  if (!proxy) return undefined
  return bypassed(target, pick('NO_PROXY') ?? '') ? undefined : proxy
}

/** NO_PROXY as curl reads it: `*`, host names matching a domain suffix, optional `:port`. */
function bypassed(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = target.port || (target.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return true
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\]$/g, ''))
    const pattern = (match?.[1] ?? entry).replace(/^\*?\./, '')
    const entryPort = match?.[2]
    if (entryPort && entryPort !== port) continue
    if (host === pattern || host.endsWith(`.${pattern}`)) return true
  }
  return false
}

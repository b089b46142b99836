const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * `90s`, `10m`, `1h`, `1h30m`, `0s`, or a bare number of seconds → milliseconds.
 * Undefined for anything else, so the caller can say which flag was wrong.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim()
  // A number too big for a double is not a duration, not Infinity.
  if (/^\d+$/.test(value)) return Number.isFinite(Number(value) * 1000) ? Number(value) * 1000 : undefined
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) return undefined
  let total = 0
  for (const [, amount, unit] of parts) total += Number(amount) * (UNITS[unit!] ?? 0)
  return Number.isFinite(total) ? Math.round(total) : undefined
}

/** 1500000 → "25m", 5400000 → "1h30m", 45000 → "45s"; for messages, never parsed back. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s'
  const seconds = Math.round(ms / 1000)
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  const rest = seconds % 60
  if (days > 0) return `${days}d${hours ? `${hours}h` : ''}`
  if (hours > 0) return `${hours}h${minutes ? `${minutes}m` : ''}`
  if (minutes > 0) return `${minutes}m${rest && minutes < 10 ? `${rest}s` : ''}`
  return `${rest}s`
}

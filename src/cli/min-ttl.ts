import { Flags } from '@oclif/core'

import { UsageError } from '../base/errors.js'
import { parseDuration } from '../util/duration.js'

/** `--min-ttl`, as `token`, `exec` and `sink` take it. */
export function minTtlFlag(summary = 'Refresh when the cached token expires within this (90s, 10m, 1h).') {
  return Flags.string({ summary, default: '5m', helpValue: 'DURATION' })
}

export function parseMinTtl(text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined) {
    throw new UsageError(
      `--min-ttl "${text.slice(0, 20)}" is not a duration.`,
      'Use a number with s, m or h, such as 90s, 10m or 1h.',
    )
  }
  return ms
}

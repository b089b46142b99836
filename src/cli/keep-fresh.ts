import { UsageError } from '../base/errors.js'
import { type KeepFreshReport, REFRESH_LEAD_MS, TokenKeeper } from '../core/keep-fresh.js'
import type { Session, TokenResult } from '../core/session.js'
import { formatDuration } from '../util/duration.js'
import { errorInline } from './error-report.js'
import { isoTime } from './time.js'
import type { Voice } from './voice.js'

/**
 * The first token of `exec --keep-fresh` and `sink`, good for --min-ttl and the lead. One
 * that the server grants for less than that would have to be renewed without pause: the
 * person is told the --min-ttl to use, before any file is written or any child started.
 */
export async function firstKeptToken(session: Session, minTtlMs: number, minTtlText: string): Promise<TokenResult> {
  const token = await session.getToken({ minTtlMs: minTtlMs + REFRESH_LEAD_MS })
  const lifetime = token.accessExpiresAt - Date.now()
  if (token.source !== 'cache' && lifetime <= minTtlMs + REFRESH_LEAD_MS) {
    const suggestion = Math.max(1, Math.floor(lifetime / 4000))
    throw new UsageError(
      `--min-ttl ${minTtlText} is not shorter than the life of the tokens "${session.env.name}" grants (${formatDuration(lifetime)}), so they would be renewed without pause.`,
      `Use a shorter --min-ttl, such as --min-ttl ${suggestion}s.`,
    )
  }
  return token
}

/**
 * What the keeping loop reports, in words on stderr. Failures show whatever --quiet says (a
 * program is about to get an expired token); the rest is information. `whenExpired` says
 * what happens once the token handed out has expired and no new one could be had.
 */
function sayKeepFreshReport(voice: Voice, envName: string, report: KeepFreshReport, whenExpired: string): void {
  const until = (at: number) => isoTime(at)
  switch (report.kind) {
    case 'failing':
      voice.error(
        errorInline(`The token for "${envName}" could not be refreshed: `, report.error as Error),
        `The one handed out is valid until ${until(report.expiresAt)}; tokenctl keeps trying.`,
      )
      return
    case 'expired':
      voice.error(
        errorInline(
          `The token for "${envName}" expired at ${until(report.expiresAt)} and could not be refreshed: `,
          report.error as Error,
        ),
        whenExpired,
      )
      return
    case 'recovered':
      voice.info(`The token for "${envName}" is fresh again, valid until ${until(report.expiresAt)}.`)
      return
    case 'short-lived':
      voice.warning(
        `The server now grants tokens for ${formatDuration(report.lifetimeMs)}, not longer than --min-ttl; each is renewed at half its life.`,
      )
  }
}

/** The keeping loop of `exec --keep-fresh` and `sink`: the session's tokens, its reports in words on stderr. */
export function keeperFor(
  session: Session,
  voice: Voice,
  options: {
    minTtlMs: number
    initial: TokenResult
    onToken: (token: TokenResult) => void
    whenExpired: string
    stopWhenExpired?: boolean
  },
): TokenKeeper {
  return new TokenKeeper({
    getToken: (ttl) => session.getToken({ minTtlMs: ttl }),
    minTtlMs: options.minTtlMs,
    initial: options.initial,
    onToken: options.onToken,
    onReport: (report) => sayKeepFreshReport(voice, session.env.name, report, options.whenExpired),
    stopWhenExpired: options.stopWhenExpired,
  })
}

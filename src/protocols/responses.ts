import { printable } from '../base/env-name.js'
import { ServerError } from '../base/errors.js'
import { redactAll, rememberSecrets } from '../base/secrets.js'
import type { HttpResponse } from './http.js'
import { isObject } from '../util/is-object.js'

/** An answer that is neither a token response nor an error the protocol knows: exit 5, with what can be said safely. */
export function failure(
  response: HttpResponse,
  host: string,
  secrets: readonly (string | undefined)[],
  checkWhat: string,
): ServerError {
  if (response.status >= 500)
    return new ServerError(
      `${host} failed with HTTP ${response.status}${serverSays(response, secrets)}.`,
      'Try again later.',
    )
  if (response.status >= 300 && response.status < 400) {
    return new ServerError(
      `${host} answered with a redirect (HTTP ${response.status}), which tokenctl does not follow for token requests.`,
      'Point the env at the final URL ("tokenctl env add NAME … --force").',
    )
  }
  if (response.status < 300 && !isObject(response.json)) {
    const what = response.json === undefined ? 'an answer that is not JSON' : 'a JSON value that is not an object'
    return new ServerError(
      `${host} sent ${what} (${describeBody(response)}).`,
      `Check the ${checkWhat} of the env ("tokenctl env show").`,
    )
  }
  if (!isJsonBody(response) || !isObject(response.json)) {
    // Most often a proxy's or firewall's own page: it says nothing about the credentials.
    return new ServerError(
      `${host} answered HTTP ${response.status}${response.contentType ? ` with ${printable(response.contentType.split(';')[0] ?? '', 40)}` : ''}, not with the server's JSON error: a proxy or firewall on the way may have sent it.`,
      `Try again later; if it persists, check the proxy settings and the ${checkWhat} of the env ("tokenctl env show").`,
    )
  }
  return new ServerError(
    `${host} answered HTTP ${response.status}${serverSays(response, secrets)}.`,
    `Check the ${checkWhat} of the env ("tokenctl env show").`,
  )
}

/**
 * A short, printable version of the server's own message, when it sent one in JSON, without
 * what we sent it. Every known secret goes, in every form it is remembered in (base64,
 * percent-encoded…), before the message is cut short: a cut would leave a prefix of an
 * encoded secret that no later redaction recognises.
 */
export function serverSays(response: HttpResponse, secrets: readonly (string | undefined)[]): string {
  const body = response.json
  if (!isObject(body)) return ''
  const inner = isObject(body.error) ? body.error : body
  const message = [inner.message, inner.error_description, inner.error].find(
    (value) => typeof value === 'string' && value.length > 0,
  ) as string | undefined
  return message ? `: "${serverText(message, secrets, 120)}"` : ''
}

/** Text a server wrote, made printable: every known secret (and `secrets`) masked in all its forms first, then cut to `max`. */
export function serverText(text: string, secrets: readonly (string | undefined)[], max: number): string {
  rememberSecrets(...secrets)
  return printable(redactAll(text), max)
}

/** The answer says it is JSON: `application/json` or a `+json` type such as `application/problem+json`. */
export function isJsonBody(response: HttpResponse): boolean {
  return /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(response.contentType)
}

function describeBody(response: HttpResponse): string {
  if (response.contentType) return `HTTP ${response.status}, ${printable(response.contentType.split(';')[0] ?? '', 40)}`
  return `HTTP ${response.status}`
}

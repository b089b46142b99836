import { printable } from '../core/env-name.js'
import { ServerError } from '../core/errors.js'
import type { HttpResponse } from '../util/http.js'
import { redact } from '../util/redact.js'

/** An answer that is neither a token response nor an error the protocol knows: exit 5, with what can be said safely. */
export function failure(response: HttpResponse, host: string, secrets: readonly (string | undefined)[], checkWhat: string): ServerError {
  if (response.status >= 500) return new ServerError(`${host} failed with HTTP ${response.status}${serverSays(response, secrets)}.`, 'Try again later.')
  if (response.status >= 300 && response.status < 400) {
    return new ServerError(`${host} answered with a redirect (HTTP ${response.status}), which tokenctl does not follow for token requests.`, 'Point the env at the final URL ("tokenctl env add NAME … --force").')
  }
  if (response.status < 300 && !isObject(response.json)) {
    return new ServerError(`${host} sent an answer that is not JSON (${describeBody(response)}).`, `Check the ${checkWhat} of the env ("tokenctl env show").`)
  }
  return new ServerError(`${host} answered HTTP ${response.status}${serverSays(response, secrets)}.`, `Check the ${checkWhat} of the env ("tokenctl env show").`)
}

/** A short, printable version of the server's own message, when it sent one in JSON, without what we sent it. */
export function serverSays(response: HttpResponse, secrets: readonly (string | undefined)[]): string {
  const body = response.json
  if (!isObject(body)) return ''
  const inner = isObject(body.error) ? body.error : body
  const message = [inner.message, inner.error_description, inner.error].find((value) => typeof value === 'string' && value.length > 0) as string | undefined
  return message ? `: "${printable(redact(message, secrets), 120)}"` : ''
}

function describeBody(response: HttpResponse): string {
  if (response.contentType) return `HTTP ${response.status}, ${printable(response.contentType.split(';')[0] ?? '', 40)}`
  return `HTTP ${response.status}`
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

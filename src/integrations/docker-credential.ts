/**
 * docker's credential helper protocol (docs/design.md#docker): the verb is the one argument,
 * the server address (or, for `store`, a JSON object) comes on stdin, the answer and every
 * error go to stdout, where docker reads them; any failure is exit 1. Pure: no oclif, no I/O.
 */

/** The verbs docker runs a helper with. */
export const DOCKER_VERBS = ['get', 'store', 'erase', 'list', 'version'] as const
export type DockerVerb = (typeof DOCKER_VERBS)[number]

export function isDockerVerb(value: string | undefined): value is DockerVerb {
  return (DOCKER_VERBS as readonly string[]).includes(value ?? '')
}

/** The executable docker looks for on PATH, for `credHelpers` entries whose value is `tokenctl`. */
export const DOCKER_HELPER_NAME = 'tokenctl'
export const DOCKER_HELPER_PROGRAM = `docker-credential-${DOCKER_HELPER_NAME}`

/**
 * The words docker itself compares the output with (after trimming): the first means
 * "nothing here", which docker takes as no credentials rather than as a failure.
 */
export const NOT_FOUND = 'credentials not found in native keychain'
export const MISSING_SERVER_URL = 'no credentials server URL'
export const MISSING_USERNAME = 'no credentials username'

/** Each of docker's messages, and ours, is one line. */
export const line = (message: string): string => `${message}\n`

export const USAGE = `Usage: ${DOCKER_HELPER_PROGRAM} <store|get|erase|list|version>`

/** More than any address or credentials object docker sends; a flood is not read past this. */
export const MAX_DOCKER_INPUT = 64 * 1024

/**
 * The server address docker sent: the whole of stdin with its line breaks taken out and
 * surrounding white space trimmed (docker's own helpers read it line by line and join the
 * lines). Empty means there was none.
 */
export function serverAddressOf(input: Buffer | string): string {
  const text = typeof input === 'string' ? input : input.toString('utf8')
  return text.replace(/\r?\n/g, '').trim()
}

/**
 * JSON as Go's encoder writes it: `<`, `>`, `&` and the JavaScript line separators
 * escaped, one value and a newline. docker decodes either way; the bytes match its
 * own helpers' so that nothing downstream can tell the difference.
 */
export function goJson(value: unknown): string {
  return `${JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )}\n`
}

export interface DockerAnswer {
  serverUrl: string
  username: string
  secret: string
}

/**
 * The answer to `get`: `{"ServerURL","Username","Secret"}` in that order. The user name
 * is never `<token>`: docker would take the secret for an identity token and try to
 * trade it for a registry token at the auth server, which tokenctl's token is not for.
 */
export function formatDockerAnswer(answer: DockerAnswer): string {
  const username = answer.username === '<token>' ? 'x-access-token' : answer.username
  return goJson({ ServerURL: answer.serverUrl, Username: username, Secret: answer.secret })
}

/** The answer to `list`: every server address and its user name, keys sorted as Go sorts a map's. */
export function formatDockerList(entries: Iterable<[string, string]>): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return goJson(Object.fromEntries(sorted))
}

export function formatDockerVersion(version: string): string {
  return `${DOCKER_HELPER_PROGRAM} (tokenctl) ${version}\n`
}

/** What `store` was given: the server address, or an error message for stdout. */
export function parseStoreRequest(input: Buffer | string): { serverUrl: string } | { error: string } {
  const text = serverAddressOf(input)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { error: 'the credentials docker sent are not JSON' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'the credentials docker sent are not a JSON object' }
  const { ServerURL: serverUrl, Username: username } = value as Record<string, unknown>
  if (typeof serverUrl !== 'string' || serverUrl === '') return { error: MISSING_SERVER_URL }
  if (typeof username !== 'string' || username === '') return { error: MISSING_USERNAME }
  return { serverUrl }
}

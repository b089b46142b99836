import path from 'node:path'

import { readToolConfig } from '../base/tool-config-file.js'
import { ConfigError } from '../base/errors.js'
import { isObject } from '../util/is-object.js'
import { DOCKER_HELPER_NAME } from './docker-credential.js'

/**
 * docker's client config (docs/design.md#setup-docker): `credHelpers` maps a registry host
 * to the helper docker runs for it (`tokenctl` → docker-credential-tokenctl). Only those
 * entries are touched; every other key keeps its value and its place.
 */

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json (docker's own rule). */
export function dockerConfigPath(environ: NodeJS.ProcessEnv, home: string): string {
  const dir = environ.DOCKER_CONFIG ? path.resolve(environ.DOCKER_CONFIG) : path.join(home, '.docker')
  return path.join(dir, 'config.json')
}

/** The file's text, or undefined when there is none yet. */
export const readDockerConfig = (file: string): string | undefined =>
  readToolConfig(file, "docker's config", 'Check its permissions, or point DOCKER_CONFIG at another directory.')

export interface DockerConfigChange {
  hosts: string[]
  unset?: boolean
}

export interface DockerConfigEdit {
  text: string
  /** What changed, in words; empty when nothing did (the text is then the original). */
  changes: string[]
  /** Hosts that named another helper before this edit pointed them at tokenctl. */
  replaced: Array<{ host: string; helper: string }>
}

/**
 * The change applied to the file's text (undefined: no file yet). Pure. The JSON is written
 * back indented as it was (docker writes tabs), keys in their order; a file that is not a
 * JSON object is refused (exit 2), never rewritten.
 */
export function editDockerConfig(
  original: string | undefined,
  file: string,
  change: DockerConfigChange,
): DockerConfigEdit {
  const unchanged = { text: original ?? '', changes: [], replaced: [] }
  let config: Record<string, unknown> = {}
  if (original !== undefined && original.trim() !== '') {
    let parsed: unknown
    try {
      parsed = JSON.parse(original)
    } catch {
      parsed = undefined
    }
    if (!isObject(parsed)) {
      throw new ConfigError(
        `docker's config ${file} is not a JSON object, so tokenctl will not rewrite it.`,
        `Fix the file (docker cannot read it either), or point DOCKER_CONFIG at another directory.`,
      )
    }
    config = parsed
  }
  if (config.credHelpers !== undefined && !isObject(config.credHelpers)) {
    throw new ConfigError(
      `"credHelpers" in docker's config ${file} is not a JSON object.`,
      'Make it an object of registry host to helper name, such as {"registry.example.com": "tokenctl"}.',
    )
  }
  const helpers: Record<string, unknown> = { ...((config.credHelpers as Record<string, unknown> | undefined) ?? {}) }
  const changes: string[] = []
  const replaced: DockerConfigEdit['replaced'] = []
  for (const host of change.hosts) {
    const current = Object.hasOwn(helpers, host) ? helpers[host] : undefined
    if (change.unset) {
      if (current === DOCKER_HELPER_NAME) {
        delete helpers[host]
        changes.push(`removed credHelpers "${host}"`)
      }
    } else if (current !== DOCKER_HELPER_NAME) {
      if (typeof current === 'string') replaced.push({ host, helper: current })
      helpers[host] = DOCKER_HELPER_NAME
      changes.push(`credHelpers "${host}": "${DOCKER_HELPER_NAME}"`)
    }
  }
  if (changes.length === 0) return unchanged
  const next = { ...config }
  // An empty map left by --unset goes with the entries it held when tokenctl's were its only ones.
  if (Object.keys(helpers).length === 0 && change.unset) delete next.credHelpers
  else next.credHelpers = helpers
  return { text: `${JSON.stringify(next, null, indentOf(original))}\n`, changes, replaced }
}

/** The indentation the file uses (its first indented line), else docker's tab. */
function indentOf(text: string | undefined): string {
  const match = /\n([ \t]+)\S/.exec(text ?? '')
  return match ? match[1]! : '\t'
}

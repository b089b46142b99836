import path from 'node:path'

import { readToolConfig } from '../base/tool-config-file.js'
import { ConfigError } from '../base/errors.js'
import { isObject } from '../util/is-object.js'
import {
  type JsonLayout,
  type JsonObjectSpan,
  memberOf,
  removeMember,
  scanObject,
  scanTop,
  setMember,
} from './docker-config-text.js'
import { DOCKER_HELPER_NAME } from './docker-credential.js'

/**
 * docker's client config (docs/design.md#setup-docker): `credHelpers` maps a registry host
 * to the helper docker runs for it (`tokenctl` → docker-credential-tokenctl). Only those
 * entries are touched, as text; every other byte of the file stays as it was.
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
 * The change applied to the file's text (undefined: no file yet). Pure. Only the text of
 * credHelpers' members changes (docs/design.md#setup-docker): every other byte stays as it
 * was, numbers and layout included; new members follow the file's own indent and spacing.
 * A file that is not a JSON object is refused (exit 2), never rewritten.
 */
export function editDockerConfig(
  original: string | undefined,
  file: string,
  change: DockerConfigChange,
): DockerConfigEdit {
  const unchanged = { text: original ?? '', changes: [], replaced: [] }
  const blank = original === undefined || original.trim() === ''
  let config: Record<string, unknown> = {}
  if (!blank) {
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
  const helpers = (config.credHelpers as Record<string, unknown> | undefined) ?? {}
  const ours = JSON.stringify(DOCKER_HELPER_NAME)
  const layout = layoutOf(blank ? undefined : original)
  let text = blank ? '{}\n' : original
  const changes: string[] = []
  const replaced: DockerConfigEdit['replaced'] = []
  for (const host of change.hosts) {
    const current = Object.hasOwn(helpers, host) ? helpers[host] : undefined
    if (change.unset) {
      if (current !== DOCKER_HELPER_NAME) continue
      const credHelpers = credHelpersOf(text)!
      text = removeMember(text, credHelpers, credHelpers.members.indexOf(memberOf(credHelpers, host)!))
      changes.push(`removed credHelpers "${host}"`)
    } else if (current !== DOCKER_HELPER_NAME) {
      if (typeof current === 'string') replaced.push({ host, helper: current })
      let credHelpers = credHelpersOf(text)
      if (!credHelpers) {
        text = setMember(text, scanTop(text), 'credHelpers', '{}', layout)
        credHelpers = credHelpersOf(text)!
      }
      text = setMember(text, credHelpers, host, ours, layout)
      changes.push(`credHelpers "${host}": "${DOCKER_HELPER_NAME}"`)
    }
  }
  if (changes.length === 0) return unchanged
  // An empty map left by --unset goes with the entries it held when tokenctl's were its only ones.
  const left = credHelpersOf(text)
  if (change.unset && left && left.members.length === 0) {
    const top = scanTop(text)
    text = removeMember(text, top, top.members.indexOf(memberOf(top, 'credHelpers')!))
  }
  return { text, changes, replaced }
}

/** The credHelpers object that docker reads (the last of that name), if there is one. */
function credHelpersOf(text: string): JsonObjectSpan | undefined {
  const member = memberOf(scanTop(text), 'credHelpers')
  return member && scanObject(text, member.valueStart)
}

/** The file's line ends and indentation (its first indented line), else docker's tab; a one-line file stays on one line. */
function layoutOf(text: string | undefined): JsonLayout {
  if (text !== undefined && !text.trim().includes('\n')) return { newline: '', indent: '' }
  const match = /\n([ \t]+)\S/.exec(text ?? '')
  return { newline: text?.includes('\r\n') ? '\r\n' : '\n', indent: match ? match[1]! : '\t' }
}

import path from 'node:path'
import { Document, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap, type YAMLSeq } from 'yaml'

import { ConfigError, UsageError } from '../base/errors.js'
import { readToolConfig } from '../base/tool-config-file.js'
import { KUBE_V1 } from './kube-credential.js'

/**
 * `setup-kube`'s edit of a kubeconfig (docs/design.md#setup-kube): one `users` entry, and
 * optionally one context's `user`, and not a byte more. The common case (a block-style file
 * as kubectl writes it) is edited as text at the places the YAML parser found, so comments,
 * spacing, quoting and key order elsewhere stay exactly as they were; anything else (a JSON
 * kubeconfig, an empty `users`) goes through the YAML document model, which keeps comments
 * and order but may respace.
 */

/** What kubectl runs: this Node and this script, both absolute. */
export interface KubeHelperProgram {
  node: string
  script: string
}

export interface KubeconfigChange {
  user: string
  envName: string
  program: KubeHelperProgram
  context?: string
  unset?: boolean
  /** Hand kubectl the env's ID token (`kube-credential --id-token`), not its access token. */
  idToken?: boolean
  /** Replace or remove a users entry NAME that tokenctl did not write. */
  force?: boolean
  /** The file's name, for the messages. */
  file?: string
}

export interface KubeconfigEdit {
  text: string
  /** What changed, in words; empty when nothing did. */
  changes: string[]
  /** With a context: the name of its cluster, and that cluster's `server` when this file has it. */
  clusterName?: string
  clusterServer?: string
}

/** The `user` of the users entry: kubectl's exec plugin block. */
export function execUser(envName: string, program: KubeHelperProgram, idToken = false): Record<string, unknown> {
  return {
    exec: {
      apiVersion: KUBE_V1,
      command: program.node,
      args: [program.script, 'kube-credential', '-e', envName, ...(idToken ? ['--id-token'] : [])],
      interactiveMode: 'IfAvailable',
      installHint: `kubectl runs tokenctl for this user's token with the Node and script named in the kubeconfig. If either is gone, install tokenctl again and run: tokenctl setup-kube -e ${envName}${idToken ? ' --id-token' : ''}`,
      // kubectl then names the cluster, and kube-credential answers only the env's hosts.
      provideClusterInfo: true,
    },
  }
}

/**
 * The kubeconfig files as kubectl reads them: --kubeconfig alone, else every path of
 * $KUBECONFIG in order (empty entries and repeats dropped), else ~/.kube/config.
 */
export function kubeconfigFiles(flag: string | undefined, environ: NodeJS.ProcessEnv, home: string): string[] {
  if (flag) return [path.resolve(flag)]
  const listed = (environ.KUBECONFIG ?? '').split(path.delimiter).filter((entry) => entry !== '')
  if (listed.length > 0) return [...new Set(listed.map((entry) => path.resolve(entry)))]
  return [path.join(home, '.kube', 'config')]
}

/** The file edited when no context says otherwise: the first of kubeconfigFiles, as kubectl does. */
export function kubeconfigPath(flag: string | undefined, environ: NodeJS.ProcessEnv, home: string): string {
  return kubeconfigFiles(flag, environ, home)[0]!
}

/** The names of the contexts a kubeconfig's text defines (none for a file that is not one). */
export function contextNames(text: string | undefined): string[] {
  const contexts = text === undefined ? undefined : parseDocument(text).get('contexts', true)
  const items = isSeq(contexts) ? (contexts.items as Node[]) : []
  return items.flatMap((entry) =>
    isMap(entry) && typeof entry.get('name') === 'string' ? [String(entry.get('name'))] : [],
  )
}

/** The `server` of the cluster named `cluster` in a kubeconfig's text, if it defines one. */
export function clusterServerIn(text: string | undefined, cluster: string): string | undefined {
  return text === undefined ? undefined : serverOf(parseDocument(text), cluster)
}

/** The file's text, or undefined when there is none yet. */
export const readKubeconfig = (file: string): string | undefined =>
  readToolConfig(file, 'The kubeconfig', 'Check its permissions, or name another with --kubeconfig.')

/**
 * The file of the list to edit (docs/design.md#setup-kube), and the texts read to find it.
 * With a context, the first file that defines it, as kubectl edits a context where it is
 * defined; the users entry goes in that same file, beside it. Otherwise the first file.
 * Only the files needed are read.
 */
export function kubeconfigToEdit(
  files: string[],
  context: string | undefined,
): { file: string; texts: Map<string, string | undefined> } {
  const texts = new Map<string, string | undefined>()
  if (context === undefined || files.length === 1) {
    texts.set(files[0]!, readKubeconfig(files[0]!))
    return { file: files[0]!, texts }
  }
  for (const file of files) texts.set(file, readKubeconfig(file))
  const holder = files.find((file) => contextNames(texts.get(file)).includes(context))
  if (holder) return { file: holder, texts }
  const known = files.map((file) => `${file} (${contextNames(texts.get(file)).join(', ') || 'none'})`)
  throw new UsageError(
    `No file of $KUBECONFIG has a context "${context.slice(0, 80)}": ${known.join('; ')}.`,
    'Name one they have with --context, or leave --context out and add the context with kubectl config set-context.',
  )
}

/** A cluster's server as kubectl merges the list: from the first file (of those read) that defines it. */
export function clusterServerOf(
  files: string[],
  texts: Map<string, string | undefined>,
  cluster: string,
): string | undefined {
  return files.map((file) => clusterServerIn(texts.get(file), cluster)).find((server) => server !== undefined)
}

type Edit = { start: number; end: number; text: string }

/** The change applied to the file's text (undefined: no file yet). Pure. */
export function editKubeconfig(original: string | undefined, change: KubeconfigChange): KubeconfigEdit {
  const text = original ?? ''
  const doc = parseDocument(text)
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
    throw new ConfigError(
      `The kubeconfig is not a YAML map${doc.errors[0] ? ` (${doc.errors[0].message.split('\n')[0]})` : ''}.`,
      'Fix it, or name another file with --kubeconfig.',
    )
  }
  const wanted = execUser(change.envName, change.program, change.idToken)
  const changes: string[] = []
  const users = doc.get('users', true) as Node | null | undefined
  const userItems = isSeq(users) ? (users.items as Node[]) : []
  const userIndex = userItems.findIndex((item) => isMap(item) && item.get('name') === change.user)
  const existing = userIndex >= 0 ? (userItems[userIndex] as YAMLMap) : undefined
  if (existing && !change.force && !isTokenctlUser(existing.get('user', true))) {
    throw new UsageError(
      `The kubeconfig's user "${change.user.slice(0, 80)}" is not tokenctl's (it does not run kube-credential); it was left as it was.`,
      change.unset
        ? 'Name the entry setup-kube wrote with --user, or pass --force to remove this one.'
        : 'Name another entry with --user, or pass --force to replace this one.',
    )
  }
  const usersKey = isMap(doc.contents)
    ? (doc.contents.items.find((pair) => isScalar(pair.key) && pair.key.value === 'users')?.key as Node | undefined)
    : undefined
  const usersKeyColumn = usersKey?.range ? linePrefix(text, usersKey.range[0]).length : 0
  const contextMap = change.context === undefined ? undefined : findContext(doc, change.context, change.file)
  const contextUser = contextMap?.get('user', true) as Node | undefined
  const clusterName: unknown = contextMap?.get('cluster')
  const clusterServer = serverOf(doc, clusterName)
  const found = {
    ...(typeof clusterName === 'string' ? { clusterName } : {}),
    ...(clusterServer === undefined ? {} : { clusterServer }),
  }

  const edits: Edit[] = []
  let modelOnly = false
  if (!change.unset) {
    const current = (existing?.get('user', true) as Node | undefined)?.toJSON() as unknown
    if (JSON.stringify(current) !== JSON.stringify(wanted)) {
      changes.push(existing ? `replaced user "${change.user}"` : `added user "${change.user}"`)
      const entry = { name: change.user, user: wanted }
      const edit = existing
        ? replaceItem(text, existing, entry, usersKeyColumn)
        : appendItem(text, users, entry, usersKeyColumn)
      if (edit) edits.push(edit)
      else modelOnly = true
    }
    if (contextMap && (!isScalar(contextUser) || contextUser.value !== change.user)) {
      changes.push(`context "${change.context}" now uses user "${change.user}"`)
      const edit =
        isScalar(contextUser) && contextUser.range
          ? replaceScalar(contextUser, change.user)
          : contextUser === undefined
            ? addPair(text, contextMap, 'user', change.user)
            : undefined
      if (edit) edits.push(edit)
      else modelOnly = true
    }
  } else {
    if (existing) {
      changes.push(`removed user "${change.user}"`)
      const edit = userItems.length > 1 ? removeItem(text, existing) : undefined
      if (edit) edits.push(edit)
      else modelOnly = true
    }
    if (contextMap && isScalar(contextUser) && contextUser.value === change.user) {
      changes.push(`context "${change.context}" no longer names a user`)
      const edit = removePair(text, contextMap, 'user')
      if (edit) edits.push(edit)
      else modelOnly = true
    }
  }
  if (changes.length === 0) return { text, changes, ...found }
  if (!modelOnly) return { text: applyEdits(text, edits), changes, ...found }
  return { text: viaModel(doc, original, change, wanted), changes, ...found }
}

/** The `server` of the clusters entry named `cluster`, if there is one. */
function serverOf(doc: Document, cluster: unknown): string | undefined {
  if (typeof cluster !== 'string') return undefined
  const clusters = doc.get('clusters', true)
  const items = isSeq(clusters) ? (clusters.items as Node[]) : []
  const item = items.find((entry) => isMap(entry) && entry.get('name') === cluster) as YAMLMap | undefined
  const body = item?.get('cluster', true)
  const server = isMap(body) ? body.get('server') : undefined
  return typeof server === 'string' ? server : undefined
}

/** An entry is tokenctl's when its exec plugin runs `kube-credential`: setup-kube wrote it. */
function isTokenctlUser(user: unknown): boolean {
  const value = (isMap(user) ? user.toJSON() : undefined) as { exec?: { args?: unknown } } | undefined
  const args = value?.exec?.args
  return Array.isArray(args) && args.includes('kube-credential')
}

function findContext(doc: Document, name: string, file?: string): YAMLMap {
  const contexts = doc.get('contexts', true)
  const items = isSeq(contexts) ? (contexts.items as Node[]) : []
  const item = items.find((entry) => isMap(entry) && entry.get('name') === name) as YAMLMap | undefined
  if (!item) {
    const known = items.flatMap((entry) => (isMap(entry) ? [String(entry.get('name'))] : []))
    throw new UsageError(
      `The kubeconfig${file ? ` ${file}` : ''} has no context "${name.slice(0, 80)}"${known.length ? ` (it has: ${known.join(', ')})` : ''}.`,
      'Name one it has with --context, or leave --context out and add the context with kubectl config set-context.',
    )
  }
  let context: unknown = item.get('context', true)
  if (!isMap(context)) {
    context = doc.createNode({})
    item.set('context', context)
  }
  return context as YAMLMap
}

/** The edit through the document model: comments and order kept, spacing yaml's own. */
function viaModel(doc: Document, original: string | undefined, change: KubeconfigChange, wanted: unknown): string {
  if (original === undefined || doc.contents === null) {
    doc.contents = doc.createNode({ apiVersion: 'v1', kind: 'Config', users: [] }) as never
  }
  let users = doc.get('users', true)
  if (!isSeq(users)) {
    doc.set('users', doc.createNode([]))
    users = doc.get('users', true)
  }
  const seq = users as YAMLSeq
  // `users: []` in a block-style file: the entry goes in as a block list, as kubectl writes
  // it, not as one long flow line.
  if (seq.flow && seq.items.length === 0 && isMap(doc.contents) && !doc.contents.flow) seq.flow = false
  const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === change.user)
  if (change.unset) {
    if (index >= 0) seq.items.splice(index, 1)
  } else {
    const node = doc.createNode({ name: change.user, user: wanted })
    if (index >= 0) seq.items[index] = node
    else seq.items.push(node)
  }
  if (change.context !== undefined) {
    const context = findContext(doc, change.context, change.file)
    if (!change.unset) context.set('user', change.user)
    else if (context.get('user') === change.user) context.delete('user')
  }
  // A JSON kubeconfig stays JSON: what is added is written with quoted keys and strings too.
  const json = isMap(doc.contents) && doc.contents.flow
  return doc.toString({
    indentSeq: original === undefined ? false : indentsSequences(original),
    lineWidth: 0,
    ...(json ? { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'QUOTE_DOUBLE' } : {}),
  })
}

/** kubectl writes `- ` under its key's column; other tools indent it. Follow the file. */
function indentsSequences(text: string): boolean {
  const match = /^( *)[^\s#:][^:\n]*:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*( *)- /m.exec(text)
  return match ? match[2]!.length > match[1]!.length : false
}

/** The YAML of `value` as lines, the first to follow `prefix`, the others indented to its width. */
function render(value: unknown, prefix: string, indentSeq: boolean): string {
  const lines = new Document(value).toString({ indentSeq, lineWidth: 0 }).replace(/\n$/, '').split('\n')
  const pad = ' '.repeat(prefix.length)
  return lines.map((line, i) => (i === 0 ? line : line === '' ? line : pad + line)).join('\n')
}

/** What precedes `offset` on its line. */
function linePrefix(text: string, offset: number): string {
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset)
}

/** The offset just past the line holding `offset - 1` (its newline included), or the text's end. */
function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf('\n', Math.max(0, offset - 1))
  return newline < 0 ? text.length : newline + 1
}

/** A block-sequence item `- key: …` on its own line: the prefix (`  - `) it starts after. */
function itemPrefix(text: string, item: Node): string | undefined {
  if (!item.range || !isMap(item) || item.flow) return undefined
  const prefix = linePrefix(text, item.range[0])
  return /^ *- +$/.test(prefix) ? prefix : undefined
}

/** Whether the file indents a list under its key, as the `users` list at hand shows (kubectl does not). */
function indentSeqOf(prefix: string, keyColumn: number): boolean {
  return prefix.indexOf('-') > keyColumn
}

function replaceItem(text: string, item: YAMLMap, entry: unknown, keyColumn: number): Edit | undefined {
  const prefix = itemPrefix(text, item)
  if (!prefix) return undefined
  const end = endOfLine(text, item.range![1])
  const eol = text.slice(end - 1, end) === '\n' ? '\n' : ''
  return { start: item.range![0], end, text: render(entry, prefix, indentSeqOf(prefix, keyColumn)) + eol }
}

function appendItem(text: string, seq: unknown, entry: unknown, keyColumn: number): Edit | undefined {
  if (!isSeq(seq) || seq.flow || seq.items.length === 0) return undefined
  const last = seq.items[seq.items.length - 1] as Node
  const prefix = itemPrefix(text, last)
  if (!prefix) return undefined
  const at = endOfLine(text, last.range![1])
  const lead = at === text.length && !text.endsWith('\n') ? '\n' : ''
  return { start: at, end: at, text: `${lead}${prefix}${render(entry, prefix, indentSeqOf(prefix, keyColumn))}\n` }
}

function removeItem(text: string, item: Node): Edit | undefined {
  const prefix = itemPrefix(text, item)
  if (!prefix) return undefined
  return { start: item.range![0] - prefix.length, end: endOfLine(text, item.range![1]), text: '' }
}

function replaceScalar(scalar: Node, value: string): Edit {
  return { start: scalar.range![0], end: scalar.range![1], text: quote(value) }
}

/** A block map's pair written on its own line: its key's indent. */
function blockIndent(text: string, map: YAMLMap): string | undefined {
  const first = map.items[0]?.key as Node | undefined
  if (map.flow || !first?.range) return undefined
  const indent = linePrefix(text, first.range[0])
  return /^ *$/.test(indent) ? indent : undefined
}

function addPair(text: string, map: YAMLMap, key: string, value: string): Edit | undefined {
  const indent = blockIndent(text, map)
  if (indent === undefined || !map.range) return undefined
  const at = endOfLine(text, map.range[1])
  const lead = at === text.length && !text.endsWith('\n') ? '\n' : ''
  return { start: at, end: at, text: `${lead}${indent}${key}: ${quote(value)}\n` }
}

function removePair(text: string, map: YAMLMap, key: string): Edit | undefined {
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key)
  const keyNode = pair?.key as Node | undefined
  const value = pair?.value as Node | undefined
  if (map.items.length < 2 || blockIndent(text, map) === undefined || !keyNode?.range || !value?.range) return undefined
  if (!/^ *$/.test(linePrefix(text, keyNode.range[0]))) return undefined
  return {
    start: keyNode.range[0] - linePrefix(text, keyNode.range[0]).length,
    end: endOfLine(text, value.range[1]),
    text: '',
  }
}

function quote(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(value) ? value : JSON.stringify(value)
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end)
  return out
}

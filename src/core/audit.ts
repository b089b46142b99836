/**
 * The local audit log (docs/design.md#audit-log): one JSON line per lifecycle event in
 * $XDG_STATE_HOME/tokenctl/audit.log. Built-ins only: the fast path reads its tail too.
 *
 * Nothing free-form is ever written: a reason is a fixed phrase chosen from the error's
 * class, never the error's message (which may quote a server), so no secret can get in.
 */
import fs from 'node:fs'
import path from 'node:path'

import { RefreshRejectedError } from '../protocols/types.js'
import { checkPrivateDir, ensurePrivateDir, openPrivateFile } from '../base/private-file.js'
import { envVariablePart, printable } from '../base/env-name.js'
import { ExitCode, type ExitCodeValue, exitCodeOf, isTokenctlError } from '../base/errors.js'
import { type Environ, stateDir } from '../base/paths.js'
import { isObject } from '../util/is-object.js'

export type AuditEventName = 'login' | 'refresh' | 'revoke' | 'forget' | 'erase' | 'endpoint'
export type AuditOutcome = 'ok' | 'failure'

/** One line of the log, keys in this order. */
export interface AuditEntry {
  /** ISO 8601 UTC with milliseconds, ending in Z. */
  time: string
  env: string
  event: string
  outcome: AuditOutcome
  /** For a failure: a fixed phrase (see REASONS), never a server's words. */
  reason?: string
  /** For a failure: the exit code it maps to (docs/design.md#output-and-exit-codes). */
  exitCode?: number
  /** For a failure: the error class name. */
  error?: string
  /** The tokenctl command that caused it (`token`, `git-credential`, `login`…). */
  command?: string
  protocol?: string
  /** Where the credential came from: the store, or credential variables. */
  source?: string
  /** oauth2 logins: device, browser, password or client-credentials. */
  flow?: string
  /** Who logged in, on a successful login only: a failed one may have a password typed as the user name. */
  user?: string
  /** Revoke: what the server said (`revoked`, or `unsupported` when it has no revocation). */
  server?: string
  /** A kept oauth2 endpoint moved by rediscovery: which one (the discovery document's field), and its URLs before and after. */
  endpoint?: string
  from?: string
  to?: string
  pid: number
}

export type AuditRecord = Omit<AuditEntry, 'time' | 'pid'>

export const AUDIT_FILE_NAME = 'audit.log'
/** docs/design.md#audit-log: rotated at 1 MiB; one older file (audit.log.1) is kept, so at most ~2 MiB. */
export const AUDIT_MAX_BYTES = 1024 * 1024
export const FAILED_ATTEMPTS_THRESHOLD = 3
export const FAILED_ATTEMPTS_WINDOW_MS = 15 * 60_000

export const REASONS = {
  credentialsRejected: 'credentials rejected',
  refreshRejected: 'refresh token rejected',
  loginRequired: 'login required',
  server: 'server or network failure',
  store: 'store unavailable',
  usage: 'configuration error',
  interrupted: 'interrupted',
  internal: 'internal error',
} as const

export function auditFile(environ: Environ = process.env): string {
  return path.join(stateDir(environ), AUDIT_FILE_NAME)
}

/** TOKENCTL_AUDIT=off (or 0, false, no) turns the log off: nothing is written or read for warnings. */
export function auditEnabled(environ: Environ = process.env): boolean {
  const value = (environ.TOKENCTL_AUDIT ?? '').trim().toLowerCase()
  return !['off', '0', 'false', 'no'].includes(value)
}

/** The audit's fixed phrase for each exit code of a failure. */
const REASON_OF_CODE: Partial<Record<ExitCodeValue, string>> = {
  [ExitCode.usage]: REASONS.usage,
  [ExitCode.loginRequired]: REASONS.loginRequired,
  [ExitCode.rejected]: REASONS.credentialsRejected,
  [ExitCode.server]: REASONS.server,
  [ExitCode.storeUnavailable]: REASONS.store,
  [ExitCode.interrupted]: REASONS.interrupted,
}

/** The fixed reason, exit code and class name of a failure. */
export function describeFailure(error: unknown): Pick<AuditEntry, 'reason' | 'exitCode' | 'error'> {
  const name = error instanceof Error && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(error.name) ? error.name : 'Error'
  const exitCode = exitCodeOf(error)
  const reason =
    error instanceof RefreshRejectedError ? REASONS.refreshRejected : (REASON_OF_CODE[exitCode] ?? REASONS.internal)
  return { reason, exitCode, error: name }
}

// One warning per process, however many envs (`--all`) fail to write.
let writeFailureReported = false

export interface AppendOptions {
  warn?: (message: string) => void
  now?: number
  maxBytes?: number
}

/**
 * Append one event. Never throws: an audit log that cannot be written must not fail the
 * command that did the real work; it warns once instead.
 */
export function appendAudit(environ: Environ, record: AuditRecord, options: AppendOptions = {}): void {
  if (!auditEnabled(environ)) return
  const line = `${JSON.stringify(toEntry(record, options.now ?? Date.now()))}\n`
  const file = auditFile(environ)
  try {
    ensurePrivateDir(path.dirname(file), STATE_DIR_LABEL)
    appendLine(file, line, options.maxBytes ?? AUDIT_MAX_BYTES)
  } catch (error) {
    if (writeFailureReported) return
    writeFailureReported = true
    // A refusal (a FIFO, a symlink, another user's file or dir) already names the path and why.
    const why = isTokenctlError(error)
      ? `: ${error.message.replace(/\.$/, '')}`
      : ` in ${path.dirname(file)}${(error as NodeJS.ErrnoException).code ? ` (${(error as NodeJS.ErrnoException).code})` : ''}`
    options.warn?.(
      `Could not write the audit log${why}; going on without it. TOKENCTL_AUDIT=off stops tokenctl from trying.`,
    )
  }
}

function toEntry(record: AuditRecord, now: number): AuditEntry {
  const clean = (value: string | undefined, max = 64) => (value === undefined ? undefined : printable(value, max))
  // Built key by key: the order of the line is the order of the interface, and nothing else gets in.
  const entry: AuditEntry = {
    time: new Date(now).toISOString(),
    env: printable(record.env, 64),
    event: printable(record.event, 20),
    outcome: record.outcome,
    reason: clean(record.reason),
    exitCode: record.exitCode,
    error: clean(record.error, 40),
    command: clean(record.command, 40),
    protocol: clean(record.protocol, 20),
    source: clean(record.source, 20),
    flow: clean(record.flow, 20),
    user: clean(record.user, 128),
    server: clean(record.server, 20),
    endpoint: clean(record.endpoint, 40),
    from: clean(record.from, 300),
    to: clean(record.to, 300),
    pid: process.pid,
  }
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as unknown as AuditEntry
}

/** Names the log and its dir for a person, in an error about their paths. */
const LOG_LABEL = 'The audit log'
const STATE_DIR_LABEL = 'The state dir'

/**
 * The log is opened as every private file is: O_NOFOLLOW (a symlink planted at the path
 * would make us append to, or truncate by rotation, whatever it points at), O_NONBLOCK (a
 * FIFO there would otherwise block every command that logs, or reads the tail for the
 * failed-attempts warning, the fast path's cache hits included), then fstat on the
 * descriptor: a regular file of ours, no group or other bits.
 */
const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT

function openLog(file: string, flags: number): number | undefined {
  return openPrivateFile(file, flags, { label: LOG_LABEL })
}

/**
 * O_APPEND and one write() per line: lines from concurrent processes land whole, one
 * after the other. Rotation renames the full file away only if it is still the one we
 * opened, so two processes rotating at once do not throw away each other's history.
 */
function appendLine(file: string, line: string, maxBytes: number): void {
  let fd = openLog(file, APPEND)!
  try {
    const stat = fs.fstatSync(fd)
    if (stat.size > 0 && stat.size + Buffer.byteLength(line) > maxBytes) {
      fs.closeSync(fd)
      fd = -1
      rotate(file, stat.ino)
      fd = openLog(file, APPEND)!
    }
    fs.writeSync(fd, line)
  } finally {
    if (fd >= 0) fs.closeSync(fd)
  }
}

function rotate(file: string, ino: number): void {
  try {
    if (fs.lstatSync(file).ino !== ino) return
    fs.renameSync(file, `${file}.1`)
  } catch (error) {
    // Someone else rotated it a moment ago.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

// ---- reading ------------------------------------------------------------------------

export interface ReadOptions {
  /** Only events at or after this epoch ms. */
  since?: number
  /** Only this env. */
  env?: string
}

export interface AuditRead {
  entries: AuditEntry[]
  /** Lines that are not events (cut short by a crash, edited by hand): skipped, counted. */
  skipped: number
  files: string[]
}

/** Every event of the rotated file and the current one, oldest first. */
export function readAudit(environ: Environ, options: ReadOptions = {}): AuditRead {
  const file = auditFile(environ)
  const result: AuditRead = { entries: [], skipped: 0, files: [] }
  // Checked on reads too: a dir or file someone else planted is refused (exit 6, naming it).
  if (!checkPrivateDir(path.dirname(file), STATE_DIR_LABEL)) return result
  for (const name of [`${file}.1`, file]) {
    const text = readLog(name)
    if (text === undefined) continue
    result.files.push(name)
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      const entry = parseEntry(line)
      if (!entry) {
        result.skipped++
        continue
      }
      if (options.env !== undefined && entry.env !== options.env) continue
      if (options.since !== undefined && Date.parse(entry.time) < options.since) continue
      result.entries.push(entry)
    }
  }
  return result
}

export function parseEntry(line: string): AuditEntry | undefined {
  try {
    const value: unknown = JSON.parse(line)
    if (!isObject(value)) return undefined
    const { time, env, event, outcome, pid } = value
    if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return undefined
    if (
      typeof env !== 'string' ||
      typeof event !== 'string' ||
      (outcome !== 'ok' && outcome !== 'failure') ||
      typeof pid !== 'number'
    )
      return undefined
    return value as unknown as AuditEntry
  } catch {
    return undefined
  }
}

// ---- the failed-attempts warning ------------------------------------------------------

/** The rejections docs/design.md#audit-log counts: credentials (exit 4) or a refresh token the server refused. Network failures do not. */
export function isRejection(entry: AuditEntry): boolean {
  return (
    entry.outcome === 'failure' && (entry.exitCode === ExitCode.rejected || entry.reason === REASONS.refreshRejected)
  )
}

export interface FailedAttempts {
  count: number
  credentials: number
  refresh: number
  /** What was rejected, for the advice: a password, a client secret, or a person's approval (device, browser). */
  rejected: Set<'password' | 'client' | 'approval'>
}

/** Enough for 15 minutes of any real use: cache hits are not logged, only logins, refreshes and revokes. */
const TAIL_BYTES = 64 * 1024

/**
 * Rejections for `env` within the last 15 minutes, since its last successful login (a
 * login that works means the credentials were put right). Cheap enough for every command:
 * a log untouched for 15 minutes costs one stat; otherwise only the tail is read.
 */
export function failedAttempts(environ: Environ, env: string, now = Date.now()): FailedAttempts {
  const none = (): FailedAttempts => ({ count: 0, credentials: 0, refresh: 0, rejected: new Set() })
  if (!auditEnabled(environ)) return none()
  const since = now - FAILED_ATTEMPTS_WINDOW_MS
  const file = auditFile(environ)
  try {
    // A state dir that fails the check is refused by checkPrivateDir and ends up below.
    if (!checkPrivateDir(path.dirname(file), STATE_DIR_LABEL)) return none()
    const lines: string[] = []
    let wanted = TAIL_BYTES
    // The current file first; the rotated one only when the current is young and short.
    for (const name of [file, `${file}.1`]) {
      const chunk = readTail(name, wanted, since)
      if (chunk === undefined) break
      lines.unshift(...chunk.text.split('\n').slice(chunk.whole ? 0 : 1))
      wanted -= chunk.bytes
      if (!chunk.whole || wanted <= 0) break
    }
    const found = none()
    for (let i = lines.length - 1; i >= 0; i--) {
      const entry = lines[i] ? parseEntry(lines[i]!) : undefined
      if (!entry || entry.env !== env) continue
      if (Date.parse(entry.time) < since) break
      if (entry.event === 'login' && entry.outcome === 'ok') break
      if (!isRejection(entry)) continue
      found.count++
      if (entry.reason === REASONS.refreshRejected) {
        found.refresh++
        continue
      }
      found.credentials++
      found.rejected.add(
        entry.flow === 'client-credentials'
          ? 'client'
          : entry.flow === 'device' || entry.flow === 'browser'
            ? 'approval'
            : 'password',
      )
    }
    return found
  } catch {
    // A log we cannot read cannot warn; the command itself must go on.
    return none()
  }
}

/** The whole of one log file, checked as it is opened; undefined when there is none. */
function readLog(file: string): string | undefined {
  const fd = openLog(file, fs.constants.O_RDONLY)
  if (fd === undefined) return undefined
  try {
    return fs.readFileSync(fd, 'utf8')
  } finally {
    fs.closeSync(fd)
  }
}

/** The last `max` bytes of a file, or undefined when it is missing or older than `since`. */
function readTail(
  file: string,
  max: number,
  since: number,
): { text: string; bytes: number; whole: boolean } | undefined {
  // An lstat first: an idle (or absent) log, the usual case, costs nothing more.
  const seen = fs.lstatSync(file, { throwIfNoEntry: false })
  if (!seen || seen.mtimeMs < since) return undefined
  const fd = openLog(file, fs.constants.O_RDONLY)
  if (fd === undefined) return undefined
  try {
    const stat = fs.fstatSync(fd)
    const bytes = Math.min(stat.size, max)
    const buffer = Buffer.alloc(bytes)
    fs.readSync(fd, buffer, 0, bytes, stat.size - bytes)
    return { text: buffer.toString('utf8'), bytes, whole: bytes === stat.size }
  } finally {
    fs.closeSync(fd)
  }
}

/** True when commands for `env` should warn: what the fast path asks before serving. */
export function shouldWarnAboutFailures(environ: Environ, env: string, now = Date.now()): boolean {
  return failedAttempts(environ, env, now).count >= FAILED_ATTEMPTS_THRESHOLD
}

/** The warning (docs/design.md#audit-log), with what to check; undefined when there is nothing to say. */
export function failedAttemptsWarning(environ: Environ, env: string, now = Date.now()): string | undefined {
  const found = failedAttempts(environ, env, now)
  if (found.count < FAILED_ATTEMPTS_THRESHOLD) return undefined
  const what =
    found.refresh === 0
      ? 'failed logins'
      : found.credentials === 0
        ? 'rejected refresh tokens'
        : 'failed logins or rejected refresh tokens'
  const checks: string[] = []
  const variable = (name: string) => `TOKENCTL_${envVariablePart(env)}_${name} / TOKENCTL_${name}`
  if (found.rejected.has('password'))
    checks.push(`the user name and password (or ${variable('PASSWORD')}) before the server locks the account`)
  if (found.rejected.has('client')) checks.push(`the client id and secret (${variable('CLIENT_SECRET')})`)
  if (found.rejected.has('approval')) checks.push("the account and the env's client id used in the browser")
  if (found.refresh > 0) checks.push('whether the session was revoked at the server or TOKENCTL_REFRESH_TOKEN is stale')
  return `${found.count} ${what} for ${env} in the last ${FAILED_ATTEMPTS_WINDOW_MS / 60_000} minutes. Check ${checks.join(', and ')}; details: tokenctl audit -e ${env} --since 15m`
}

/**
 * How long a keychain call may take, what is said while it waits, and the fix named when
 * it fails: per OS (docs/design.md#where-things-are-kept).
 */
import { type Platform, variable } from '../base/platform.js'

/** docs/design.md#where-things-are-kept: a keychain that does not answer within 3 s counts as unavailable. */
export const KEYCHAIN_TIMEOUT_MS = 3000
/** Time enough for a person to read macOS's Keychain dialog and click. */
export const KEYCHAIN_PERSON_TIMEOUT_MS = 60_000
/** After this long without an answer, macOS is most likely showing its dialog. */
export const KEYCHAIN_ASKING_AFTER_MS = 1500

export interface KeychainPolicy {
  /** A call that has not answered by then fails with exit 6. */
  deadlineMs: number
  /** When set: after this long without an answer, `asking` is said once on stderr. */
  askingAfterMs?: number
  asking?: string
  /** The one-sentence fix of every keychain error. */
  fix: string
}

/**
 * macOS asks a person before a program that did not write a Keychain item (a new `node`
 * after an upgrade) may read it. Someone can answer when the dialog reaches a screen they
 * look at: not over SSH (the dialog shows on the Mac's own screen, or nowhere), and only
 * with a terminal on stderr or a GUI app that started us (macOS sets
 * `__CFBundleIdentifier` for apps it launches; terminals set `TERM_PROGRAM`).
 */
export function personCanBeAsked(platform: Platform): boolean {
  if (platform.os !== 'darwin') return false
  const set = (name: string) => Boolean(variable(platform, name))
  if (set('SSH_CONNECTION') || set('SSH_TTY') || set('SSH_CLIENT')) return false
  return platform.stderrIsTTY || set('__CFBundleIdentifier') || set('TERM_PROGRAM')
}

export function keychainPolicy(platform: Platform, deadlineMs = KEYCHAIN_TIMEOUT_MS): KeychainPolicy {
  const fix = fixFor(platform.os)
  if (!personCanBeAsked(platform)) return { deadlineMs, fix }
  const waitMs = Math.max(deadlineMs, KEYCHAIN_PERSON_TIMEOUT_MS)
  return {
    deadlineMs: waitMs,
    askingAfterMs: KEYCHAIN_ASKING_AFTER_MS,
    asking:
      `macOS is asking for permission to use the Keychain for this Node binary (${platform.execPath}); ` +
      `choose "Always Allow" and it stops asking. Waiting up to ${Math.round(waitMs / 1000)} s…`,
    fix,
  }
}

function fixFor(os: NodeJS.Platform): string {
  if (os === 'darwin')
    return 'Run: security unlock-keychain ~/Library/Keychains/login.keychain-db, or keep tokens in a file with --store file.'
  if (os === 'win32')
    return 'Check that Windows Credential Manager can be used in this session (it is not over some remote shells), or keep tokens in a file with --store file.'
  return 'Unlock or start your keychain (on Linux a Secret Service such as gnome-keyring), or keep tokens in a file with --store file.'
}

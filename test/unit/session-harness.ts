/**
 * A Session (src/core/session.ts) built in-process for the session tests: an in-memory
 * store, a scripted protocol, a clock that moves only when told, and the real inter-process
 * lock in a private temp dir (it is what serialises refreshes, and it is fast here).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type { Binding } from '../../src/base/binding.js'
import type { VariableCredentials } from '../../src/base/credentials.js'
import type { Env } from '../../src/base/env-settings.js'
import { Session, type SessionEvent, type SessionOptions } from '../../src/core/session.js'
import type { SecretRecord, SecretStore } from '../../src/stores/types.js'
import { AccessCache } from '../../src/stores/access-cache.js'
import { InMemoryStore } from '../support/in-memory-store.js'
import { ScriptedProtocol, type Script } from '../support/scripted-protocol.js'

/**
 * Where the tests' clock starts: two hours before the real now, so that every time a test
 * moves it to is still in the real past. The stores and the lock judge times by the real
 * clock, and do not believe one from the future (src/base/freshness.ts).
 */
export const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 120 * 60_000
export const MIN = 60_000

export const OAUTH2_ENV: Env = { name: 'corp', protocol: 'oauth2', issuer: 'https://id.example.com', clientId: 'cli' }
export const API_ENV: Env = { name: 'prod', protocol: 'api', url: 'https://api.example.com' }
export const OAUTH2_BINDING: Binding = { protocol: 'oauth2', server: 'https://id.example.com', clientId: 'cli' }
export const API_BINDING: Binding = { protocol: 'api', server: 'https://api.example.com' }

export interface Harness {
  session: Session
  store: InMemoryStore
  protocol: ScriptedProtocol
  events: SessionEvent[]
  warnings: string[]
  clock: { now: number }
  dir: string
  lockDir: string
  accessCache?: AccessCache
}

export interface Setup {
  env?: Env
  binding?: Binding
  key?: string
  record?: SecretRecord
  script?: Script
  credentials?: VariableCredentials
  clientSecret?: string
  /** With the access-token cache beside the store (the keychain's case), in the temp dir. */
  accessCache?: boolean
  /** Wrap the in-memory store, e.g. in the real RescuingStore. */
  wrap?: (store: InMemoryStore, dir: string, warn: (message: string) => void) => SecretStore
  onLockWait?: () => void
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

export function harness(setup: Setup = {}): Harness {
  const env = setup.env ?? API_ENV
  const key = setup.key ?? env.name
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-session-'))
  dirs.push(dir)
  const store = new InMemoryStore(setup.record ? { [key]: setup.record } : {})
  const protocol = new ScriptedProtocol(setup.script)
  const events: SessionEvent[] = []
  const warnings: string[] = []
  const warn = (message: string) => warnings.push(message)
  const clock = { now: T0 }
  const accessCache = setup.accessCache ? new AccessCache(path.join(dir, 'access')) : undefined
  const lockDir = path.join(dir, 'locks')
  const options: SessionOptions = {
    env,
    key,
    binding: setup.binding ?? (env.protocol === 'api' ? API_BINDING : OAUTH2_BINDING),
    store: setup.wrap ? setup.wrap(store, dir, warn) : store,
    accessCache,
    protocol: protocol.factory,
    credentials: setup.credentials,
    clientSecret: setup.clientSecret,
    lockDir,
    onLockWait: setup.onLockWait,
    warn,
    now: () => clock.now,
    onEvent: (event) => events.push(event),
  }
  return { session: new Session(options), store, protocol, events, warnings, clock, dir, lockDir, accessCache }
}

/** A record as a login at `at` would leave it: a 30-minute access token and a refresh token. */
export function loggedIn(at: number, overrides: Partial<SecretRecord> = {}): SecretRecord {
  return {
    accessToken: 'A1',
    accessExpiresAt: at + 30 * MIN,
    refreshToken: 'R1',
    refreshExpiresAt: at + 7 * 24 * 60 * MIN,
    obtainedAt: at,
    binding: API_BINDING,
    ...overrides,
  }
}

/** What the server answers a refresh or login with, at `at`. */
export function tokens(
  accessToken: string,
  at: number,
  refreshToken?: string,
): { accessToken: string; accessExpiresAt: number; refreshToken?: string; refreshExpiresAt?: number } {
  return {
    accessToken,
    accessExpiresAt: at + 30 * MIN,
    ...(refreshToken ? { refreshToken, refreshExpiresAt: at + 7 * 24 * 60 * MIN } : {}),
  }
}

/** The error a promise rejects with, for asserting its class, exit code and text. */
export async function failure(promise: Promise<unknown>): Promise<Error & { exitCode?: number; fix?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { exitCode?: number; fix?: string }
  }
  throw new Error('expected a rejection, got a result')
}

import type { AuthProtocol, ClientSecret, LoginFlow, LoginRequest, TokenSet } from '../protocols/types.js'
import { RefreshRejectedError } from '../protocols/types.js'
import type { AccessCache, CachedAccess } from '../stores/access-cache.js'
import type { SecretRecord, SecretStore } from '../stores/types.js'
import { type Binding, bindingMismatch, matchingEntry, mismatchError } from '../base/binding.js'
import type { VariableCredentials } from '../base/credentials.js'
import { debug } from '../base/debug.js'
import type { Env } from '../base/env-settings.js'
import { CorruptRecordError, LoginRequiredError, TokenctlError } from '../base/errors.js'
import { DEFAULT_MIN_TTL_MS, heldToken, isFresh, isFromTheFuture, type TokenKind } from '../base/freshness.js'
import { acquireLock, envLockNotices, handedLockAskedAt } from '../base/lock.js'
import { asksForIdToken, noIdToken, notOauth2 } from './id-token.js'

export interface SessionOptions {
  env: Env
  /** Where the env's record, access-cache entry and lock are kept (binding.ts storeKey). */
  key: string
  /** What a record must have been issued for to be used for this env (binding.ts envBinding). */
  binding: Binding
  store: SecretStore
  /** Only beside the keychain: a cache hit then needs no keychain call. */
  accessCache?: AccessCache
  /**
   * Built on first use: loading the HTTP stack is not free, and a cache hit needs none.
   * The client secret (oauth2) comes from a variable or from the env's record.
   */
  protocol: (clientSecret?: ClientSecret) => Promise<AuthProtocol>
  credentials?: VariableCredentials
  /** TOKENCTL_CLIENT_SECRET, which counts even when the credentials are not complete. */
  clientSecret?: string
  lockDir: string
  onLockWait?: () => void
  /** Warnings for a person: a long wait for the lock, a lock taken over. */
  warn?: (message: string) => void
  now?: () => number
  /** Told of every login, refresh, revoke and local deletion, and of their failures (the audit log listens). */
  onEvent?: (event: SessionEvent) => void
}

/** What happened to the env's tokens. Plain values, and the error itself for the listener to classify. */
export interface SessionEvent {
  env: string
  event: 'login' | 'refresh' | 'revoke' | 'forget' | 'erase'
  outcome: 'ok' | 'failure'
  error?: unknown
  /** Where the credential came from: the store, or credential variables; absent for an explicit login. */
  source?: 'store' | 'variables'
  /** oauth2 logins: the flow (docs/design.md#oauth-20-and-openid-connect). */
  flow?: LoginFlow
  user?: string
  server?: 'revoked' | 'unsupported'
}

/** A request `obtain` makes: told as a failure when it fails, as a success once its tokens are saved. */
type Attempt = Omit<SessionEvent, 'env' | 'outcome' | 'error'> & { event: 'refresh' | 'login' }

export interface TokenResult {
  accessToken: string
  accessExpiresAt: number
  /** Where the token came from: a cache, or a request made now. */
  source: 'cache' | 'refresh' | 'login'
  user?: string
}

export interface IdTokenResult {
  idToken: string
  /** The ID token's `exp` claim, epoch ms. */
  idExpiresAt: number
  source: TokenResult['source']
  user?: string
}

export interface RevokeResult {
  /** There was something to revoke at all. */
  hadTokens: boolean
  server: 'revoked' | 'unsupported' | 'skipped'
  /** The stored entry could not be read, so nothing could be revoked at the server; it was deleted here. */
  unreadable?: boolean
  /** The stored login was made for another server, client or user (why, in words): deleted here, sent nowhere. */
  mismatch?: string
  /** `keepIfBoundTo` matched: the login was left alone. */
  kept?: boolean
}

/**
 * The token lifecycle of one env (docs/design.md#commands, docs/design.md#where-things-are-kept, docs/design.md#credentials-from-variables): serve a cached access token when it
 * outlives minTtl, else, under the env's inter-process lock, re-read (another process may
 * have done the work), refresh, fall back to a login with credentials from variables, and save.
 */
export class Session {
  private readonly now: () => number

  constructor(private readonly options: SessionOptions) {
    this.now = options.now ?? Date.now
  }

  get env(): Env {
    return this.options.env
  }

  async getToken({ minTtlMs = DEFAULT_MIN_TTL_MS, forceRefresh = false } = {}): Promise<TokenResult> {
    const got = await this.serve('access', minTtlMs, forceRefresh)
    return { accessToken: got.token, accessExpiresAt: got.expiresAt, source: got.source, user: got.user }
  }

  /**
   * The env's OpenID Connect ID token (docs/design.md#kubectl), by the same rules as the
   * access token: served while it outlives minTtl, else refreshed under the same lock, one
   * refresh for a crowd. Only an oauth2 env has one (exit 2), and an env whose server sends
   * none (no `openid` in its scope) says how to get one (exit 2).
   */
  async getIdToken({ minTtlMs = DEFAULT_MIN_TTL_MS } = {}): Promise<IdTokenResult> {
    const refused = notOauth2(this.options.env)
    if (refused) throw refused
    const got = await this.serve('id', minTtlMs, false)
    return { idToken: got.token, idExpiresAt: got.expiresAt, source: got.source, user: got.user }
  }

  /** The access or the ID token: from a cache when it outlives minTtl, else under the lock, re-read, refreshed, saved. */
  private async serve(
    kind: TokenKind,
    minTtlMs: number,
    forceRefresh: boolean,
  ): Promise<{ token: string; expiresAt: number; source: TokenResult['source']; user?: string }> {
    const { env, store, accessCache, key, binding } = this.options
    const what = kind === 'id' ? 'ID token' : 'access token'
    if (!forceRefresh) {
      // An entry that cannot be read, or was issued for something else, is a miss here; the
      // locked path says what to do about it. The fast path decides with the same matchingEntry.
      const cached =
        matchingEntry(accessCache?.get(key), binding) ?? this.bound(await store.get(key).catch(unlessCorrupt)).record
      const [token, expiresAt] = heldToken(cached, kind)
      if (cached && isFresh(token, expiresAt, minTtlMs, this.now())) {
        debug('session', () => `${env.name}: cached ${what}, ${Math.round((expiresAt! - this.now()) / 1000)} s left`)
        return { token, expiresAt: expiresAt!, source: 'cache', user: cached.user }
      }
    }
    // The fast path of bin/run.js may have found the token stale and waited for the lock already.
    const askedAt = Math.min(this.now(), handedLockAskedAt(this.options.lockDir, key) ?? Infinity)
    return this.locked(async () => {
      await store.settle?.(key)
      const { record, mismatch } = this.bound(await this.readRecord())
      // Whoever held the lock before us may have just done this very work. A time from the
      // future was not written by them: believed, it would make every refresh do nothing.
      const justObtained =
        record?.obtainedAt !== undefined &&
        record.obtainedAt >= askedAt &&
        !isFromTheFuture(record.obtainedAt, this.now())
      const [token, expiresAt] = heldToken(record, kind)
      if (record && (justObtained || (!forceRefresh && isFresh(token, expiresAt, minTtlMs, this.now())))) {
        if (token && expiresAt && expiresAt > this.now()) {
          const entry = this.cacheEntry(record)
          if (entry) accessCache?.set(key, entry)
          return { token, expiresAt, source: 'cache', user: record.user }
        }
        // The tokens just obtained came without an ID token: another refresh would bring none either.
        if (kind === 'id' && justObtained && !token) throw noIdToken(env)
      }
      // A scope without openid buys no ID token: no request is made for nothing.
      if (kind === 'id' && !asksForIdToken(env.scope)) throw noIdToken(env, 'scope')
      const { tokens, done, user } = await this.obtain(record, mismatch)
      debug(
        'session',
        () =>
          `${env.name}: ${done.event === 'refresh' ? 'refreshed' : 'logged in'}${tokens.refreshToken ? ', with a new refresh token' : ''}${tokens.idToken ? ', with an ID token' : ''}`,
      )
      // After a rotation the stored refresh token is dead at the server: this record is the only good one.
      const irreplaceable = done.event === 'refresh' && tokens.refreshToken !== undefined
      const saved = await this.reported(done, () =>
        this.save(tokens, record, { irreplaceable, user, keepIdToken: done.event === 'refresh' }),
      )
      if (kind === 'id') {
        // Only the ID token of this very answer: one kept from before is what ran low.
        if (tokens.idToken === undefined || tokens.idExpiresAt === undefined) throw noIdToken(env)
        return { token: tokens.idToken, expiresAt: tokens.idExpiresAt, source: done.event, user: saved.user }
      }
      return { token: saved.accessToken!, expiresAt: saved.accessExpiresAt!, source: done.event, user: saved.user }
    })
  }

  /**
   * What the access-token cache keeps of a record: never the refresh token, never an ID
   * token past its time; nothing when the record has no access token (git erased it).
   */
  private cacheEntry(record: SecretRecord): CachedAccess | undefined {
    if (record.accessToken === undefined || record.accessExpiresAt === undefined) return undefined
    const idValid = record.idToken !== undefined && record.idExpiresAt !== undefined && record.idExpiresAt > this.now()
    return {
      accessToken: record.accessToken,
      accessExpiresAt: record.accessExpiresAt,
      ...(idValid ? { idToken: record.idToken, idExpiresAt: record.idExpiresAt } : {}),
      user: record.user,
      binding: record.binding ?? this.bindingFor(undefined),
    }
  }

  /**
   * An explicit login: whatever was stored for the env is replaced. The flow runs outside
   * the lock (a person may take minutes to approve a device code); only the save is locked.
   */
  async login(request: LoginRequest): Promise<SecretRecord> {
    const { store, key } = this.options
    // Not swallowed: with the store out of reach the login could not be saved, and a person
    // must not approve a device code or a browser page for nothing (docs/design.md#output-and-exit-codes: 6 comes first).
    // An entry that cannot be read is another matter: replacing it is what a login is for,
    // and so is one made for another server (whose client secret is not this client's).
    const previous = this.bound(await store.get(key).catch(unlessCorrupt)).record
    const protocol = await this.options.protocol(this.clientSecret(previous))
    return this.reported({ event: 'login', flow: this.flowOf(request.flow) }, async () => {
      const tokens = await protocol.login(request)
      // Only a secret a person typed is kept; one from a variable is never written (docs/design.md#credentials-from-variables).
      const clientSecret = protocol.typedClientSecret?.() ?? previous?.clientSecret
      const user = request.flow === 'password' ? request.credentials?.username : undefined
      return this.locked(() => this.save(tokens, { clientSecret, flow: this.flowOf(request.flow) }, { user }))
    })
  }

  /** The flow `login` uses when none is given. */
  async defaultFlow(): Promise<LoginFlow> {
    return (await this.options.protocol(this.clientSecret(undefined))).defaultFlow()
  }

  /**
   * Revoke at the server, then delete locally whatever happened there; a server error is
   * re-thrown after the local deletion so the caller can warn and exit 5.
   * `keepIfBoundTo`: `env add --force` retiring the login of the env's old settings keeps
   * one that was issued for the new settings already (a hand-edited config set right).
   */
  async revoke({ keepIfBoundTo }: { keepIfBoundTo?: Binding } = {}): Promise<RevokeResult> {
    const { store, accessCache, key } = this.options
    return this.locked(async () => {
      let record: SecretRecord | undefined
      let unreadable = false
      try {
        record = await store.get(key)
      } catch (error) {
        // Nothing can be revoked with it, but it still goes: that is what the person asked for.
        if (!(error instanceof CorruptRecordError)) throw error
        unreadable = true
      }
      if (keepIfBoundTo && record?.binding && bindingMismatch(record.binding, keepIfBoundTo) === undefined)
        return { hadTokens: false, server: 'skipped', kept: true }
      const { mismatch } = this.bound(record)
      if (mismatch) {
        // Its tokens belong to another server: sending them to this env's server would hand
        // them to a stranger. They go from here, and the old server is not told.
        accessCache?.delete(key)
        await store.delete(key)
        this.emit({ event: 'forget', outcome: 'ok' })
        return { hadTokens: true, server: 'skipped', mismatch: mismatch.message }
      }
      const hadTokens = unreadable || Boolean(record?.refreshToken || record?.accessToken)
      let server: RevokeResult['server'] = 'skipped'
      let failure: unknown
      if (hadTokens) {
        try {
          server = await (
            await this.options.protocol(this.clientSecret(record))
          ).revoke({ refreshToken: record?.refreshToken, accessToken: record?.accessToken })
        } catch (error) {
          failure = error
        }
      }
      accessCache?.delete(key)
      await store.delete(key)
      if (hadTokens)
        this.emit(
          failure
            ? { event: 'revoke', outcome: 'failure', error: failure }
            : { event: 'revoke', outcome: 'ok', server: server === 'skipped' ? undefined : server },
        )
      if (failure) throw failure
      return unreadable ? { hadTokens, server, unreadable } : { hadTokens, server }
    })
  }

  /**
   * Drop the cached access token but keep the refresh token: git calls `erase` after the
   * server refused a token, and the next `get` must then refresh. `only` limits it to that token.
   */
  async dropAccessToken(only?: string): Promise<void> {
    const { store, accessCache, key } = this.options
    await this.locked(async () => {
      const { record } = this.bound(await store.get(key).catch(unlessCorrupt))
      if (!record?.accessToken || (only !== undefined && only !== record.accessToken)) return
      accessCache?.delete(key)
      await store.set(key, { ...record, accessToken: undefined, accessExpiresAt: undefined, obtainedAt: undefined })
      this.emit({ event: 'erase', outcome: 'ok' })
    })
  }

  /** Delete the env's secrets here without telling the server. True when there was something. */
  async forget(): Promise<boolean> {
    const { store, accessCache, key } = this.options
    return this.locked(async () => {
      accessCache?.delete(key)
      const deleted = await store.delete(key)
      if (deleted) this.emit({ event: 'forget', outcome: 'ok' })
      return deleted
    })
  }

  /**
   * Tokens from the server, by the first way that works. `record` is only ever one issued
   * for this env; `mismatch` says why the stored one was not, when it was not. `user` is the
   * user name the new tokens are bound to.
   */
  private async obtain(
    record: SecretRecord | undefined,
    mismatch?: LoginRequiredError,
  ): Promise<{ tokens: TokenSet; done: Attempt; user?: string }> {
    const { env, credentials, key } = this.options
    const secret = this.clientSecret(record)
    const protocol = await this.options.protocol(secret)
    const stored =
      record?.refreshToken && (record.refreshExpiresAt === undefined || record.refreshExpiresAt > this.now())
        ? record.refreshToken
        : undefined
    const refreshToken = stored ?? credentials?.refreshToken
    let rejected: TokenctlError | undefined
    if (refreshToken) {
      const done: Attempt = { event: 'refresh', source: stored ? 'store' : 'variables' }
      try {
        return {
          tokens: await this.attempt(done, () => protocol.refresh(refreshToken)),
          done,
          user: stored ? record?.binding?.user : undefined,
        }
      } catch (error) {
        if (!(error instanceof RefreshRejectedError)) throw error
        rejected = error
      }
    }
    if (credentials?.password) {
      const done: Attempt = { event: 'login', source: 'variables', flow: this.flowOf('password') }
      return {
        tokens: await this.attempt(done, () => protocol.login({ flow: 'password', credentials: credentials.password })),
        done,
        user: credentials.password.username,
      }
    }
    // The client-credentials grant has no refresh token: it is simply run again (docs/design.md#oauth-20-and-openid-connect).
    if (env.protocol === 'oauth2' && secret && (credentials?.client || record?.flow === 'client-credentials')) {
      const done: Attempt = {
        event: 'login',
        source: secret.from === 'variable' ? 'variables' : 'store',
        flow: 'client-credentials',
      }
      return { tokens: await this.attempt(done, () => protocol.login({ flow: 'client-credentials' })), done }
    }
    if (rejected) {
      // A refresh token the server refuses is dead: forget it, so `status` tells the truth.
      if (stored && record)
        await this.options.store.set(key, {
          user: record.user,
          clientSecret: record.clientSecret,
          flow: record.flow,
          binding: record.binding ?? this.bindingFor(undefined),
        })
      this.options.accessCache?.delete(key)
      throw rejected
    }
    if (mismatch) throw mismatch
    if (record?.refreshToken) {
      throw new LoginRequiredError(`The login to "${env.name}" has expired.`, `Run: tokenctl login -e ${env.name}`)
    }
    throw new LoginRequiredError(
      `Not logged in to "${env.name}".`,
      env.protocol === 'oauth2'
        ? `Run: tokenctl login -e ${env.name} (or set TOKENCTL_CLIENT_SECRET, or TOKENCTL_USERNAME and TOKENCTL_PASSWORD, in CI).`
        : `Run: tokenctl login -e ${env.name} (or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD in CI).`,
    )
  }

  /** A client secret from a variable wins over one a person typed at an earlier login. */
  private clientSecret(record: SecretRecord | undefined): ClientSecret | undefined {
    const fromVariable = this.options.clientSecret
    if (fromVariable) return { value: fromVariable, from: 'variable' }
    return record?.clientSecret ? { value: record.clientSecret, from: 'store' } : undefined
  }

  /**
   * The env's record, read under the lock. One that cannot be read is a login required
   * (exit 3, saying why), unless credentials from variables can log in again and replace it.
   */
  private async readRecord(): Promise<SecretRecord | undefined> {
    try {
      return await this.options.store.get(this.options.key)
    } catch (error) {
      if (!(error instanceof CorruptRecordError) || !this.options.credentials) throw error
      debug(
        'session',
        () => `${this.options.env.name}: ${error.message} Logging in again with the TOKENCTL_* credentials.`,
      )
      return undefined
    }
  }

  private async save(
    tokens: TokenSet,
    previous: SecretRecord | undefined,
    {
      irreplaceable = false,
      user,
      keepIdToken = false,
    }: { irreplaceable?: boolean; user?: string; keepIdToken?: boolean } = {},
  ): Promise<SecretRecord> {
    const { store, accessCache, key } = this.options
    const rotated = tokens.refreshToken !== undefined
    // A refresh answer need not carry an ID token (docs/design.md#kubectl): the one of the
    // login stays while it lasts. Any other answer is a new login, and its ID token or none.
    const keepsOld =
      keepIdToken && previous?.idToken && previous.idExpiresAt !== undefined && previous.idExpiresAt > this.now()
    const id = tokens.idToken !== undefined ? tokens : keepsOld ? previous : undefined
    const record: SecretRecord = {
      ...previous,
      accessToken: tokens.accessToken,
      accessExpiresAt: tokens.accessExpiresAt,
      idToken: id?.idToken,
      idExpiresAt: id?.idExpiresAt,
      refreshToken: rotated ? tokens.refreshToken : previous?.refreshToken,
      refreshExpiresAt: rotated ? tokens.refreshExpiresAt : previous?.refreshExpiresAt,
      user: tokens.user ?? previous?.user,
      obtainedAt: this.now(),
      // Bound here, at every save: a record from before bindings is bound at its first refresh.
      binding: this.bindingFor(user),
    }
    await store.set(key, record, { irreplaceable })
    const entry = this.cacheEntry(record)
    if (entry) accessCache?.set(key, entry)
    return record
  }

  /** The env's binding with the user the tokens were obtained as (when a user name was sent). */
  private bindingFor(user: string | undefined): Binding {
    const { protocol, server, endpoints, clientId } = this.options.binding
    return {
      protocol,
      server,
      ...(endpoints === undefined ? {} : { endpoints }),
      ...(clientId === undefined ? {} : { clientId }),
      ...(user === undefined ? {} : { user }),
    }
  }

  /**
   * A stored record, when it was issued for this env; else why not, as the error a
   * command that needs it ends with (exit 3). Its secrets then go nowhere.
   */
  private bound(record: SecretRecord | undefined): { record?: SecretRecord; mismatch?: LoginRequiredError } {
    const why = record && bindingMismatch(record.binding, this.options.binding)
    if (!why) return { record }
    const { name } = this.options.env
    debug('session', () => `${name}: the stored login was made for ${why}; not using it`)
    return { mismatch: mismatchError(name, why) }
  }

  private async attempt(details: Attempt, request: () => Promise<TokenSet>): Promise<TokenSet> {
    try {
      return await request()
    } catch (error) {
      this.emit({ ...details, outcome: 'failure', error })
      throw error
    }
  }

  /** The flow is worth recording only where there is a choice of flows. */
  private flowOf(flow: LoginFlow): LoginFlow | undefined {
    return this.options.env.protocol === 'oauth2' ? flow : undefined
  }

  /** Run `work` (a save, or a whole login) and tell the listener how it went. */
  private async reported(
    details: Omit<SessionEvent, 'env' | 'outcome'>,
    work: () => Promise<SecretRecord>,
  ): Promise<SecretRecord> {
    try {
      const record = await work()
      this.emit({ ...details, outcome: 'ok', user: details.event === 'login' ? record.user : undefined })
      return record
    } catch (error) {
      this.emit({ ...details, outcome: 'failure', error })
      throw error
    }
  }

  /** A listener that throws must not change the outcome of the work it was told about. */
  private emit(event: Omit<SessionEvent, 'env'>): void {
    try {
      this.options.onEvent?.({ env: this.options.env.name, ...event })
    } catch {
      // see above
    }
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const { env, warn } = this.options
    const release = await acquireLock(this.options.lockDir, this.options.key, {
      onWait: this.options.onLockWait,
      ...envLockNotices(env.name, warn),
    })
    try {
      return await work()
    } finally {
      release()
    }
  }
}

/** For reads where an unreadable entry counts as none. */
function unlessCorrupt(error: unknown): undefined {
  if (error instanceof CorruptRecordError) return undefined
  throw error
}

import { Command, Flags, type Interfaces } from '@oclif/core'

import { Config } from '../core/config.js'
import { type Context, type ContextOptions, contextFor, openContext } from '../core/context.js'
import { rememberVariableSecrets } from '../base/credentials.js'
import { setDebug } from '../base/debug.js'
import { selectEnv } from '../core/env-select.js'
import type { Env } from '../base/env-settings.js'
import { isTokenctlError } from '../base/errors.js'
import { redactAll } from '../base/secrets.js'
import { isCi } from '../base/variables.js'
import { chooseStoreKind, openStore } from '../stores/open.js'
import { type SecretStore, STORE_KINDS } from '../stores/types.js'
import { errorReport, isOclifError, writeErrorReport } from './error-report.js'
import { Voice } from './voice.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What every command shares: the global flags (docs/design.md#commands), the config, the store, the
 * stderr voice, and turning a typed error into its message and exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    env: Flags.string({
      char: 'e',
      summary: 'Env to use (default: $TOKENCTL_ENV, then the current env).',
      helpGroup: 'GLOBAL',
    }),
    store: Flags.string({
      summary: 'Where secrets are kept (default: $TOKENCTL_STORE, then keychain).',
      options: [...STORE_KINDS],
      helpGroup: 'GLOBAL',
    }),
    quiet: Flags.boolean({
      char: 'q',
      summary: 'Print no information or warnings on stderr; errors still show.',
      helpGroup: 'GLOBAL',
    }),
    'no-input': Flags.boolean({ summary: 'Never ask a person anything (CI=true does the same).', helpGroup: 'GLOBAL' }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** The words that are not flags (all of them, for commands that are not strict). */
  protected rest: string[] = []
  private openedStores: Array<SecretStore & { close?: () => void }> = []
  protected readonly voice = new Voice(() => Boolean(this.flags?.quiet), this.environ)

  public override async init(): Promise<void> {
    // Before anything can fail: an error message must already know what to hide.
    rememberVariableSecrets(this.environ)
    setDebug(this.environ.TOKENCTL_DEBUG === '1')
    await super.init()
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.rest = argv as string[]
  }

  protected get environ(): NodeJS.ProcessEnv {
    return process.env
  }

  /** `--no-input` or CI=true: nobody is there to answer. */
  protected get noInput(): boolean {
    return this.flags['no-input'] || isCi(this.environ)
  }

  protected openConfig(): Config {
    return new Config(this.environ)
  }

  protected selectEnv(config = this.openConfig()): Env {
    return selectEnv(this.flags.env, config.read(), this.environ)
  }

  /** Close this store's helper when the command ends. */
  protected track(store: SecretStore & { close?: () => void }): void {
    this.openedStores.push(store)
  }

  protected get contextOptions(): ContextOptions {
    return {
      envFlag: this.flags.env,
      storeFlag: this.flags.store,
      environ: this.environ,
      warn: (message) => this.warning(message),
      userAgent: this.config.userAgent,
      command: this.id,
    }
  }

  /** The env, its store and its session, as the global flags and variables select them. */
  protected async context(): Promise<Context> {
    const context = await openContext(this.contextOptions)
    this.openedStores.push(context.store)
    return context
  }

  /** A context for every env of the config (`--all`). */
  protected async allContexts(): Promise<Context[]> {
    const config = this.openConfig().read()
    const contexts: Context[] = []
    for (const name of Object.keys(config.envs).sort()) {
      const context = await contextFor({ name, ...config.envs[name]! }, config, this.contextOptions)
      this.openedStores.push(context.store)
      contexts.push(context)
    }
    return contexts
  }

  protected async store(): Promise<SecretStore> {
    const kind = chooseStoreKind(this.flags.store, this.environ)
    const store = await openStore(kind, { environ: this.environ, warn: (message) => this.warning(message) })
    this.openedStores.push(store)
    return store
  }

  /** The result of the command: stdout, exactly as given. */
  protected out(text: string): void {
    this.voice.out(text)
  }

  protected outJson(value: unknown): void {
    this.voice.outJson(value)
  }

  /** Information for a person: stderr, silenced by --quiet. */
  protected info(message: string): void {
    this.voice.info(message)
  }

  protected warning(message: string): void {
    this.voice.warning(message)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    for (const store of this.openedStores) store.close?.()
    return super.finally(error)
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    // oclif's own errors (bad flag, missing argument) already carry exit 2 and a good message;
    // oclif prints them, so they are redacted here, on their way out.
    if (!isTokenctlError(error) && isOclifError(error)) {
      error.message = redactAll(error.message)
      if (error.stack) error.stack = redactAll(error.stack)
      throw error
    }
    const report = errorReport(error, this.environ.TOKENCTL_DEBUG === '1')
    writeErrorReport(report, this.voice)
    this.exit(report.exitCode)
  }
}

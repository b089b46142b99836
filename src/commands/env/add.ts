import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../cli/base-command.js'
import { withExitCodes } from '../../cli/exit-codes-help.js'
import { envBinding } from '../../base/binding.js'
import { hasEnv } from '../../core/config-file.js'
import { contextFor } from '../../core/context.js'
import { buildEnvSettings } from '../../core/env-build.js'
import { displayUrl, type EnvSettings } from '../../base/env-settings.js'
import { isTokenctlError, StoreUnavailableError } from '../../base/errors.js'
import { addEnv, changesLogin, duplicateEnv } from '../../core/envs.js'

export default class EnvAdd extends BaseCommand<typeof EnvAdd> {
  static override summary = 'Add an environment profile.'
  static override description = withExitCodes(
    `An env names one auth server. It holds no secret: log in to it afterwards with "tokenctl login -e NAME".
The first env added becomes the current one; --use makes any new env current.`,
    [0, 2, 5],
  )

  static override examples = [
    {
      description: 'A JSON login API server, made current:',
      command: '<%= config.bin %> <%= command.id %> prod --url https://api.example.com --use',
    },
    {
      description: 'Custom paths and a default user:',
      command:
        '<%= config.bin %> <%= command.id %> staging --url https://staging.example.com --token-path /v2/login --username alice',
    },
    {
      description: 'An OpenID Connect provider (endpoints found by discovery):',
      command:
        '<%= config.bin %> <%= command.id %> corp --issuer https://sso.example.com/realms/corp --client-id tokenctl',
    },
    {
      description: 'An OAuth 2.0 server with its endpoints given by hand:',
      command:
        '<%= config.bin %> <%= command.id %> corp --protocol oauth2 --token-url https://sso.example.com/token --client-id cli',
    },
    {
      description: 'A registry host that docker and terraform get its tokens for too:',
      command: '<%= config.bin %> <%= command.id %> prod --url https://api.example.com --host registry.example.com',
    },
    {
      description: 'A local server over plain HTTP (loopback needs no --allow-http):',
      command: '<%= config.bin %> <%= command.id %> dev --url http://127.0.0.1:8080',
    },
  ]

  static override args = {
    name: Args.string({ description: 'Env name: lower-case letters, digits, ".", "_", "-".', required: true }),
  }

  static override flags = {
    url: Flags.string({ summary: 'Base URL of the auth server (protocol api).', helpValue: 'URL' }),
    issuer: Flags.string({ summary: 'OAuth 2.0 / OpenID Connect issuer URL (protocol oauth2).', helpValue: 'URL' }),
    protocol: Flags.string({ summary: 'How to talk to the server.', options: ['api', 'oauth2'] }),
    'client-id': Flags.string({ summary: 'OAuth 2.0 client id.' }),
    'client-auth': Flags.string({
      summary: 'How a confidential OAuth 2.0 client authenticates.',
      options: ['basic', 'post'],
    }),
    scope: Flags.string({ summary: 'OAuth 2.0 scopes to ask for, space-separated.' }),
    'token-path': Flags.string({ summary: 'api: login path (default /auth/token).', helpValue: 'PATH' }),
    'refresh-path': Flags.string({ summary: 'api: refresh path (default /auth/token/refresh).', helpValue: 'PATH' }),
    'revoke-path': Flags.string({ summary: 'api: revoke path (default /auth/token/revoke).', helpValue: 'PATH' }),
    'token-url': Flags.string({ summary: 'oauth2: token endpoint.', helpValue: 'URL' }),
    'device-url': Flags.string({ summary: 'oauth2: device authorization endpoint.', helpValue: 'URL' }),
    'authorize-url': Flags.string({ summary: 'oauth2: authorization endpoint.', helpValue: 'URL' }),
    'revoke-url': Flags.string({ summary: 'oauth2: revocation endpoint.', helpValue: 'URL' }),
    username: Flags.string({ summary: 'Default user name for login.' }),
    host: Flags.string({
      summary:
        'Another host (host[:port]) that git, docker and terraform may ask tokens for; repeatable. --git-host is the same.',
      multiple: true,
      aliases: ['git-host'],
      helpValue: 'HOST',
    }),
    'allow-http': Flags.boolean({ summary: 'Allow plain http:// to a host that is not loopback.' }),
    use: Flags.boolean({ summary: 'Make the new env the current one.' }),
    force: Flags.boolean({ summary: 'Replace an env of the same name.' }),
  }

  public async run(): Promise<void> {
    const { flags, args } = this
    const settings = buildEnvSettings({
      url: flags.url,
      issuer: flags.issuer,
      protocol: flags.protocol as 'api' | 'oauth2' | undefined,
      clientId: flags['client-id'],
      clientAuth: flags['client-auth'] as 'basic' | 'post' | undefined,
      scope: flags.scope,
      tokenPath: flags['token-path'],
      refreshPath: flags['refresh-path'],
      revokePath: flags['revoke-path'],
      tokenUrl: flags['token-url'],
      deviceUrl: flags['device-url'],
      authorizeUrl: flags['authorize-url'],
      revokeUrl: flags['revoke-url'],
      username: flags.username,
      gitHosts: flags.host,
      allowHttp: flags['allow-http'],
    })
    // Refuse a duplicate before any request is made.
    const config = this.openConfig()
    if (!flags.force && hasEnv(config.read(), args.name)) throw duplicateEnv(args.name)
    let complete = settings
    if (settings.protocol === 'oauth2' && settings.issuer && !settings.tokenUrl) {
      this.info(`Discovering the endpoints of ${settings.issuer}…`)
      const { completeSettings } = await import('../../protocols/oauth2-discovery.js')
      complete = await completeSettings(settings, { environ: this.environ, userAgent: this.config.userAgent })
    }
    const result = await addEnv(config, args.name, complete, { force: flags.force, use: flags.use })
    this.info(`${result.replaced ? 'Replaced' : 'Added'} env "${args.name}"${result.current ? ' (current)' : ''}.`)
    if (result.previous && changesLogin(args.name, result.previous, complete, this.environ))
      await this.retireLogin(args.name, result.previous, complete)
    if (complete.discoveredAt) {
      const found = [
        ['token', complete.tokenUrl],
        ['device', complete.deviceUrl],
        ['browser', complete.authorizeUrl],
        ['revocation', complete.revokeUrl],
      ].filter(([, url]) => url)
      this.info(`Endpoints: ${found.map(([what, url]) => `${what} ${url}`).join(', ')}.`)
    }
    if (complete.protocol === 'oauth2' && !complete.clientId)
      this.warning(
        'No --client-id given: set TOKENCTL_CLIENT_ID before logging in, or add the env again with --client-id ID --force.',
      )
    this.info(`Next: tokenctl login -e ${args.name}`)
  }

  /**
   * The env now names another server, endpoint or client: the login kept for the old one must never
   * reach the new one, and is of no use here any more. It is revoked at the old server (a
   * failure there only warns: the env is already replaced) and deleted from the store and
   * the access cache.
   */
  private async retireLogin(name: string, old: EnvSettings, next: EnvSettings): Promise<void> {
    const where = displayUrl(old) ?? 'the old server'
    try {
      const { session, store } = await contextFor({ name, ...old }, this.openConfig().read(), this.contextOptions)
      this.track(store)
      const result = await session.revoke({ keepIfBoundTo: envBinding({ name, ...next }, this.environ) })
      if (!result.hadTokens) return
      if (result.mismatch)
        this.warning(`${result.mismatch} Its tokens were deleted here without being sent to any server.`)
      else if (result.server === 'unsupported')
        this.warning(
          `The env now names another server, endpoint or client: the login kept for ${where} was deleted here, but that server has no revocation, so it stays valid there until it expires.`,
        )
      else
        this.info(
          `The env now names another server, endpoint or client: the login kept for ${where} was revoked there and deleted here.`,
        )
    } catch (error) {
      if (!isTokenctlError(error)) throw error
      if (error instanceof StoreUnavailableError) {
        this.warning(
          `The env now names another server, endpoint or client, but the login kept for ${where} could not be deleted (${error.message}); it will not be used for the new one.`,
        )
      } else {
        this.warning(
          `The env now names another server, endpoint or client: the login kept for ${where} was deleted here, but revoking it there failed (${error.message}).`,
        )
      }
    }
  }
}

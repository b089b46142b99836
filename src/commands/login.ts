import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { askSecret, askText, canPrompt, readStdin } from '../cli/prompts.js'
import { expiresPhrase } from '../cli/time.js'
import type { Context } from '../core/context.js'
import { printable } from '../base/env-name.js'
import { LoginRequiredError, UsageError } from '../base/errors.js'
import { chooseFlow, refuseFlowForApi } from '../core/login-flow.js'
import { checkStoreBeforeAsking } from '../core/store-check.js'
import { openInBrowser } from '../integrations/browser.js'
import { DEFAULT_BROWSER_TIMEOUT_MS } from '../protocols/oauth2-browser.js'
import {
  type DevicePrompt,
  type Interaction,
  LOGIN_FLOWS,
  type LoginFlow,
  type PasswordCredentials,
} from '../protocols/types.js'
import { formatDuration, parseDuration } from '../util/duration.js'

export default class Login extends BaseCommand<typeof Login> {
  static override summary = 'Log in and keep the refresh token in the store.'
  static override description = withExitCodes(
    `api envs: asks for the user name and password on a terminal. Without one, pass --username and pipe the password into --password-stdin, or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD (TOKENCTL_<ENV>_PASSWORD for one env). The password itself is never stored.

oauth2 envs: --flow device (the default when the server has a device endpoint: a code to confirm in any browser, no terminal needed), browser (authorization code with PKCE through a listener on 127.0.0.1), password, or client-credentials (TOKENCTL_CLIENT_SECRET, or the secret typed on a terminal and kept in the store). A confidential client's secret is asked for when the server wants one.`,
    [0, 2, [3, 'a person is needed, and there is none to ask'], 4, 5, 6, 130],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    {
      description: 'From a script, the password never in argv:',
      command: 'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> -e prod --username alice --password-stdin',
    },
    {
      description: 'In CI, from variables:',
      command: 'TOKENCTL_USERNAME=ci-bot TOKENCTL_PASSWORD=… <%= config.bin %> <%= command.id %> -e prod --no-input',
    },
    {
      description: 'OAuth 2.0 in a browser on this machine:',
      command: '<%= config.bin %> <%= command.id %> -e corp --flow browser',
    },
    {
      description: 'OAuth 2.0 over SSH: approve the code on any device:',
      command: '<%= config.bin %> <%= command.id %> -e corp --flow device',
    },
    {
      description: 'A service account:',
      command: 'TOKENCTL_CLIENT_SECRET=… <%= config.bin %> <%= command.id %> -e corp --flow client-credentials',
    },
  ]

  static override flags = {
    username: Flags.string({ char: 'u', summary: "User name (default: $TOKENCTL_USERNAME, then the env's user)." }),
    'password-stdin': Flags.boolean({
      summary: 'Read the password from stdin (to EOF, one trailing newline dropped).',
    }),
    flow: Flags.string({
      summary: 'oauth2: how to log in (default: device when the server has it, else password).',
      options: [...LOGIN_FLOWS],
    }),
    timeout: Flags.string({
      summary: 'oauth2 browser flow: give up after this long.',
      default: formatDuration(DEFAULT_BROWSER_TIMEOUT_MS),
      helpValue: 'DURATION',
    }),
  }

  public async run(): Promise<void> {
    const timeoutMs = parseDuration(this.flags.timeout)
    if (!timeoutMs)
      throw new UsageError(
        `--timeout "${this.flags.timeout.slice(0, 20)}" is not a duration.`,
        'Use a number with s, m or h, such as 90s or 5m.',
      )
    const context = await this.context()
    const { env, session } = context
    // A usage error is said first; then the store must be able to keep the login before
    // anyone is asked for anything (or a device or browser flow is started).
    refuseFlowForApi(env, this.flags.flow)
    // The env's own entry, where the login will be written: for an env made from variables
    // that is its name and a hash of what it is bound to (context.key), not its name.
    await checkStoreBeforeAsking(context.store, context.key, this.environ)
    const flow = await this.chooseFlow(context)
    const interactive = !this.noInput && canPrompt()

    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    const interaction: Interaction = {
      signal: controller.signal,
      timeoutMs,
      showDeviceCode: (prompt) => this.showDeviceCode(env.name, prompt),
      openBrowser: (url) => this.openBrowser(url),
      askClientSecret: interactive
        ? (reason) =>
            askSecret(
              reason === 'missing'
                ? `Client secret for ${env.clientId ?? 'the client'} (the server wants one)`
                : 'The server refused the client secret; client secret',
            )
        : undefined,
    }
    try {
      const credentials = flow === 'password' ? await this.passwordCredentials(context, interactive) : undefined
      const record = await session.login({ flow, credentials, interaction })
      const who = record.user ?? credentials?.username
      this.info(
        `Logged in to ${env.name}${who ? ` as ${printable(who, 128)}` : ''}. The access token ${expiresPhrase(record.accessExpiresAt)}.`,
      )
    } finally {
      process.removeListener('SIGINT', stop)
    }
  }

  /** The flow (core/login-flow.ts), or the server's default when nothing else decides it. */
  private async chooseFlow({ env, session, credentials }: Context): Promise<LoginFlow> {
    const { flow, username, 'password-stdin': passwordStdin } = this.flags
    return (
      chooseFlow({ env, flow, username, passwordStdin, credentials, noInput: this.noInput }) ??
      (await session.defaultFlow())
    )
  }

  private async passwordCredentials({ env, credentials }: Context, interactive: boolean): Promise<PasswordCredentials> {
    const fromVariables = credentials?.password
    let username = this.flags.username ?? fromVariables?.username ?? env.username
    if (!username) {
      if (!interactive) throw this.needsPerson('user name', env.name)
      username = await askText(`User name for ${env.name}`)
    }

    let password: string
    if (this.flags['password-stdin']) {
      if (process.stdin.isTTY)
        throw new UsageError(
          '--password-stdin reads the password from a pipe, but stdin is a terminal.',
          `Pipe it in: printf %s "$PASSWORD" | tokenctl login -e ${env.name} --password-stdin`,
        )
      password = await readStdin()
      if (!password)
        throw new UsageError('--password-stdin read an empty password.', 'Pipe the password in, without anything else.')
    } else if (fromVariables?.password) {
      password = fromVariables.password
    } else {
      if (!interactive) throw this.needsPerson('password', env.name)
      password = await askSecret(`Password for ${username}`)
    }
    return { username, password }
  }

  /**
   * Not silenced by --quiet: without the code there is no login. Every part of it is the
   * provider's text, so each goes through printable() here too: a bidi override or a line
   * separator in it must not rearrange what the person reads before approving a login.
   */
  private showDeviceCode(env: string, prompt: DevicePrompt): void {
    const uri = printable(prompt.verificationUri, 500)
    const complete =
      prompt.verificationUriComplete === undefined ? undefined : printable(prompt.verificationUriComplete, 500)
    const code = printable(prompt.userCode, 40)
    const lines = complete
      ? [
          `To log in to ${env}, open ${complete}`,
          `and check that the page shows the code ${code}.`,
          `(Or open ${uri} and enter the code.)`,
        ]
      : [`To log in to ${env}, open ${uri}`, `and enter the code ${code}.`]
    lines.push(`Waiting for approval; the code ${expiresPhrase(prompt.expiresAt)}. Ctrl-C stops.`)
    process.stderr.write(`${lines.join('\n')}\n`)
  }

  /** The URL always goes to stderr as well: over SSH there is no browser to open. */
  private openBrowser(url: string): void {
    const opened = openInBrowser(url, this.environ)
    process.stderr.write(
      `${opened ? 'Opening your browser to log in. If it does not open, visit' : 'Open this URL in a browser to log in:'}\n${url}\nWaiting for the browser (Ctrl-C stops).\n`,
    )
  }

  private needsPerson(what: string, env: string): LoginRequiredError {
    return new LoginRequiredError(
      `A ${what} is needed and there is no one to ask${this.noInput ? ' (--no-input or CI=true)' : ' (stdin is not a terminal)'}.`,
      `Pass --username U --password-stdin, or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD, then run: tokenctl login -e ${env}`,
    )
  }
}

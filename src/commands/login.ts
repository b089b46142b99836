import { Flags } from '@oclif/core'

import { BaseCommand } from '../cli/base-command.js'
import { askSecret, askText, canPrompt, readStdin } from '../cli/prompts.js'
import { describeExpiry } from '../cli/time.js'
import { LoginRequiredError, UsageError } from '../core/errors.js'
import type { PasswordCredentials } from '../protocols/types.js'

export default class Login extends BaseCommand<typeof Login> {
  static override summary = 'Log in and keep the refresh token in the store.'
  static override description = `Asks for the user name and password on a terminal. Without one, pass --username and pipe the password into --password-stdin, or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD (TOKENCTL_<ENV>_PASSWORD for one env). The password itself is never stored.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod',
    { description: 'From a script, the password never in argv:', command: 'printf %s "$PASSWORD" | <%= config.bin %> <%= command.id %> -e prod --username alice --password-stdin' },
    { description: 'In CI, from variables:', command: 'TOKENCTL_USERNAME=ci-bot TOKENCTL_PASSWORD=… <%= config.bin %> <%= command.id %> -e prod --no-input' },
  ]

  static override flags = {
    username: Flags.string({ char: 'u', summary: "User name (default: $TOKENCTL_USERNAME, then the env's user)." }),
    'password-stdin': Flags.boolean({ summary: 'Read the password from stdin (to EOF, one trailing newline dropped).' }),
  }

  public async run(): Promise<void> {
    const { env, session, credentials } = await this.context()
    const interactive = !this.noInput && canPrompt()
    const fromVariables = credentials?.password

    let username = this.flags.username ?? fromVariables?.username ?? env.username
    if (!username) {
      if (!interactive) throw this.needsPerson('user name', env.name)
      username = await askText(`User name for ${env.name}`)
    }

    let password: string
    if (this.flags['password-stdin']) {
      if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe, but stdin is a terminal.', `Pipe it in: printf %s "$PASSWORD" | tokenctl login -e ${env.name} --password-stdin`)
      password = await readStdin()
      if (!password) throw new UsageError('--password-stdin read an empty password.', 'Pipe the password in, without anything else.')
    } else if (fromVariables?.password) {
      password = fromVariables.password
    } else {
      if (!interactive) throw this.needsPerson('password', env.name)
      password = await askSecret(`Password for ${username}`)
    }

    const credentialsUsed: PasswordCredentials = { username, password }
    const record = await session.login(credentialsUsed)
    this.info(`Logged in to ${env.name} as ${record.user ?? username}. The access token expires ${describeExpiry(record.accessExpiresAt)}.`)
  }

  private needsPerson(what: string, env: string): LoginRequiredError {
    return new LoginRequiredError(
      `A ${what} is needed and there is no one to ask${this.noInput ? ' (--no-input or CI=true)' : ' (stdin is not a terminal)'}.`,
      `Pass --username U --password-stdin, or set TOKENCTL_USERNAME and TOKENCTL_PASSWORD, then run: tokenctl login -e ${env}`,
    )
  }
}

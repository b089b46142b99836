import { Args } from '@oclif/core'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { readStdinUpTo } from '../cli/stdin.js'
import { gitCredentialReport, writeHelperNote } from '../cli/error-report.js'
import { DEFAULT_GIT_USER, isOurHost, isOurUser } from '../core/git-hosts.js'
import { isTokenctlError } from '../base/errors.js'
import { formatCredentialAnswer, MAX_INPUT, parseCredentialRequest } from '../integrations/git-credential.js'

export default class GitCredential extends BaseCommand<typeof GitCredential> {
  static override summary = 'A git credential helper that answers with a fresh access token.'
  static override description = withExitCodes(
    `Configured by "tokenctl setup-git"; git runs it, not you. It answers only for the env's git hosts (the host of its URL and every --host of "env add") over https (or http to loopback), and stays silent otherwise so git asks its next helper. "erase" (git's reaction to a refused token) drops the cached access token so the next "get" refreshes. The refresh token is never handed out.`,
    [[0, 'answered, or silent (also when a login is needed)'], 2, 4, 5, 6],
  )

  static override examples = [
    {
      description: 'What git does:',
      command: 'printf "protocol=https\\nhost=git.example.com\\n\\n" | <%= config.bin %> <%= command.id %> get -e prod',
    },
  ]

  static override args = {
    operation: Args.string({ description: 'What git asks.', options: ['get', 'store', 'erase'], required: true }),
  }

  public async run(): Promise<void> {
    const input = await readStdinUpTo(MAX_INPUT)
    const request = input && parseCredentialRequest(input)
    if (!request || this.args.operation === 'store') return

    // Everything below is silent on stdout unless we answer: git must be free to ask another helper.
    let context
    try {
      context = await this.context()
    } catch (error) {
      this.debugNote(error)
      return
    }
    const { env, key, session, store } = context
    if (!isOurHost(env, request)) return

    try {
      if (this.args.operation === 'erase') {
        await session.dropAccessToken(request.credential ?? request.password)
        return
      }
      // A user name that is not obviously ours is checked against the stored one first:
      // a request for someone else must not cost a refresh.
      if (
        request.username &&
        !isOurUser(request, [env.username, DEFAULT_GIT_USER]) &&
        (await store.get(key))?.user !== request.username
      )
        return
      const token = await session.getToken()
      const username = token.user ?? env.username ?? DEFAULT_GIT_USER
      if (!isOurUser(request, [username, env.username, DEFAULT_GIT_USER])) return
      writeStdout(
        formatCredentialAnswer(request, { username, token: token.accessToken, expiresAt: token.accessExpiresAt }),
      )
    } catch (error) {
      if (!isTokenctlError(error)) throw error
      // Nothing on stdout either way, and git asks its next helper whatever the exit code;
      // "log in" is exit 0 there (gitCredentialReport), anything else keeps its code.
      const report = gitCredentialReport(error, env.name)
      writeHelperNote(report.message)
      process.exitCode = report.exitCode
    }
  }

  private debugNote(error: unknown): void {
    if (this.environ.TOKENCTL_DEBUG === '1') writeHelperNote(`not answering: ${(error as Error).message}`)
  }
}

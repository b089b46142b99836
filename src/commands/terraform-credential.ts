import { Args } from '@oclif/core'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { gitCredentialReport, writeHelperNote } from '../cli/error-report.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { readStdinUpTo } from '../cli/stdin.js'
import { contextFor } from '../core/context.js'
import { envForHost, hostOf } from '../core/host-env.js'
import { printable } from '../base/env-name.js'
import { ExitCode, isTokenctlError, UsageError } from '../base/errors.js'
import {
  formatTerraformToken,
  isTerraformVerb,
  MAX_TERRAFORM_INPUT,
  TERRAFORM_HELPER_PROGRAM,
  TERRAFORM_NOTHING,
} from '../integrations/terraform-credential.js'

export default class TerraformCredential extends BaseCommand<typeof TerraformCredential> {
  static override hidden = true
  static override summary = "terraform's credentials helper: what terraform-credentials-tokenctl runs."
  static override description = withExitCodes(
    `terraform runs ${TERRAFORM_HELPER_PROGRAM} for a credentials_helper "tokenctl" block in its CLI configuration; you do not. The env is the one whose hosts include HOST (the current env first; TOKENCTL_ENV, or "-e ENV" in the block's args, forces one). "get HOST" prints {"token":"…"} with a fresh access token, or {} when tokenctl has nothing for HOST (also when a login is needed, which stderr says); "store HOST" reads what terraform sends to the end and keeps nothing, since tokenctl's own login is what counts; "forget HOST" drops the cached access token, so the next "get" refreshes. Any other verb is an error on stderr.`,
    [[0, 'answered, {} included'], 2, 4, 5, 6],
  )

  static override examples = [
    {
      description: 'What terraform does:',
      command: `${TERRAFORM_HELPER_PROGRAM} get registry.example.com`,
    },
  ]

  static override args = {
    // Not required: oclif's "missing arg" would print the whole usage; the protocol's one line is the fix.
    verb: Args.string({ description: 'get, store or forget.' }),
    host: Args.string({ description: 'The host terraform asks about.' }),
  }

  public async run(): Promise<void> {
    const { verb, host: given } = this.args
    if (verb === undefined) {
      throw new UsageError(
        `${TERRAFORM_HELPER_PROGRAM} needs a verb and a host.`,
        `terraform runs it as: ${TERRAFORM_HELPER_PROGRAM} get|store|forget HOST`,
      )
    }
    if (!isTerraformVerb(verb)) {
      throw new UsageError(
        `${TERRAFORM_HELPER_PROGRAM} does not know the verb "${printable(verb, 40)}".`,
        'terraform runs it with get, store or forget and a host name.',
      )
    }
    // terraform writes the credentials object to `store` and waits for it to be read.
    if (verb === 'store') await readStdinUpTo(MAX_TERRAFORM_INPUT)
    if (given === undefined) {
      throw new UsageError(`"${verb}" needs the host name.`, `Run: ${TERRAFORM_HELPER_PROGRAM} ${verb} HOST`)
    }
    const host = hostOf(given)
    // A host that URL parsing reads as another spelling (0x7f.1, %2e) is nobody's, like one of no env.
    if (!host && URL.canParse(`https://${given}/`)) {
      if (verb === 'get') writeStdout(TERRAFORM_NOTHING)
      return
    }
    if (!host) {
      throw new UsageError(
        `"${printable(given, 80)}" is not a host name.`,
        'terraform gives a host name such as registry.example.com.',
      )
    }
    if (verb === 'store') return
    const config = this.openConfig().read()
    const env = envForHost(host, config, this.environ, this.flags.env)
    if (!env) {
      if (verb === 'get') writeStdout(TERRAFORM_NOTHING)
      return
    }
    const { session, store } = await contextFor(env, config, this.contextOptions)
    this.track(store)
    if (verb === 'forget') {
      await session.dropAccessToken()
      return
    }
    try {
      const token = await session.getToken()
      writeStdout(formatTerraformToken(token.accessToken))
    } catch (error) {
      if (!isTokenctlError(error) || error.exitCode !== ExitCode.loginRequired) throw error
      // Definitely nothing to give without a person: terraform goes on without credentials.
      writeHelperNote(gitCredentialReport(error, env.name).message)
      writeStdout(TERRAFORM_NOTHING)
    }
  }
}

import { Flags } from '@oclif/core'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { minTtlFlag, parseMinTtl } from '../cli/min-ttl.js'
import { clusterRefusal } from '../core/kube-cluster.js'
import { EXEC_INFO_VARIABLE, formatExecCredential, parseExecInfo } from '../integrations/kube-credential.js'
import { formatDuration } from '../util/duration.js'

export default class KubeCredential extends BaseCommand<typeof KubeCredential> {
  static override summary = 'A kubectl exec credential plugin that answers with a fresh access token.'
  static override description = withExitCodes(
    `Configured by "tokenctl setup-kube"; kubectl runs it, not you. It reads kubectl's request from ${EXEC_INFO_VARIABLE} and prints one ExecCredential (client.authentication.k8s.io/v1 or v1beta1, the version asked for) with the access token and its expiry. With --id-token it is the OpenID Connect ID token of an oauth2 env instead, with the ID token's own expiry: what a cluster that checks ID tokens (its OIDC authenticator) accepts; an env that is not oauth2, or whose server sends no ID token (no openid in its scope), is exit 2 with the fix. It never prompts and never starts a device or browser flow: when a login is needed it says so on stderr, which kubectl shows, and exits 3. When kubectl names the cluster (spec.cluster.server, sent for an entry with provideClusterInfo: true, as setup-kube writes it), its host must be one of the env's hosts (its URL's or issuer's, its --host entries, and the clusters setup-kube --context recorded); any other cluster is exit 2 and gets nothing. The refresh token is never handed out.`,
    [[0, 'the ExecCredential is printed'], [2, 'also a bad request, or another cluster'], 3, 4, 5, 6],
  )

  static override examples = [
    {
      description: 'What kubectl does:',
      command: `${EXEC_INFO_VARIABLE}='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' <%= config.bin %> <%= command.id %> -e prod`,
    },
    {
      description: "For a cluster that checks OpenID Connect ID tokens (the env's scope has openid):",
      command: '<%= config.bin %> <%= command.id %> -e corp --id-token',
    },
  ]

  static override flags = {
    'min-ttl': minTtlFlag(),
    'id-token': Flags.boolean({
      summary: "Hand out the oauth2 env's OpenID Connect ID token instead of the access token.",
    }),
  }

  public async run(): Promise<void> {
    const minTtlMs = parseMinTtl(this.flags['min-ttl'])
    // Before anything else: a request tokenctl cannot answer is exit 2 whatever the login.
    const info = parseExecInfo(this.environ[EXEC_INFO_VARIABLE])
    // A cluster that is not one of the env's hosts gets nothing, before any store is opened.
    const refused = clusterRefusal(this.selectEnv(), info)
    if (refused) throw refused
    const { session } = await this.context()
    // The session never prompts: whether kubectl has a person at stdin (info.interactive)
    // changes nothing, a login needed is exit 3 with the command to run.
    let token: { value: string; expiresAt: number; source: string }
    if (this.flags['id-token']) {
      const id = await session.getIdToken({ minTtlMs })
      token = { value: id.idToken, expiresAt: id.idExpiresAt, source: id.source }
    } else {
      const access = await session.getToken({ minTtlMs })
      token = { value: access.accessToken, expiresAt: access.accessExpiresAt, source: access.source }
    }
    const left = token.expiresAt - Date.now()
    if (token.source !== 'cache' && left < minTtlMs) {
      this.warning(
        `The server grants tokens for ${formatDuration(left)}, less than --min-ttl ${this.flags['min-ttl']}; printing it anyway.`,
      )
    }
    writeStdout(formatExecCredential(info.apiVersion, { token: token.value, expiresAt: token.expiresAt }))
  }
}

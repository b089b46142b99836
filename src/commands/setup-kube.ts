import { Flags } from '@oclif/core'
import os from 'node:os'
import path from 'node:path'

import { replaceToolConfig } from '../base/tool-config-file.js'
import { BaseCommand } from '../cli/base-command.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import type { Env } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import { hasEnv } from '../core/config-file.js'
import { addEnvHosts } from '../core/env-hosts.js'
import { gitHostsOf } from '../core/git-hosts.js'
import { hostOf } from '../core/host-env.js'
import { idTokenRefusal } from '../core/id-token.js'
import { shellWord } from '../util/shell-quote.js'
import { clusterServerOf, editKubeconfig, kubeconfigFiles, kubeconfigToEdit } from '../integrations/kubeconfig.js'

export default class SetupKube extends BaseCommand<typeof SetupKube> {
  static override summary = "Make kubectl use tokenctl's tokens: a kubeconfig user that runs tokenctl."
  static override description = withExitCodes(
    `Writes the kubeconfig's users entry NAME (default tokenctl-ENV) as an exec credential plugin (client.authentication.k8s.io/v1) that runs "'/path/to/node' '/path/to/tokenctl/bin/run.js' kube-credential -e ENV", Node named by its absolute path so kubectl finds it whatever its PATH. With --context, that context's user becomes NAME (the context must exist), and the host of its cluster's server is added to the env's hosts: kube-credential answers only a cluster whose host is one of the env's (the entry has provideClusterInfo: true, so kubectl names the cluster), and naming the context is your consent that its cluster gets the env's tokens. Nothing else in the file changes: other users, contexts, clusters, comments and key order are kept. The file is --kubeconfig, else the first path in $KUBECONFIG (with --context, the first of its files that defines the context: the users entry goes beside it), else ~/.kube/config; it is replaced atomically and keeps its mode (a new one is 0600). With --id-token the entry asks for the env's ID token (kube-credential --id-token). An entry NAME that tokenctl did not write (its exec does not run kube-credential) is neither replaced nor removed without --force: exit 2, nothing written. Running it twice changes nothing; --unset removes the entry (and, with --context, that context's user when it is NAME); the env keeps the cluster's host.`,
    [0, 2],
  )

  static override examples = [
    '<%= config.bin %> <%= command.id %> -e prod --context prod-cluster',
    '<%= config.bin %> <%= command.id %> -e prod --kubeconfig ~/.kube/prod.yaml --user prod',
    {
      description: "A cluster that checks OpenID Connect ID tokens: the oauth2 env's ID token instead.",
      command: '<%= config.bin %> <%= command.id %> -e corp --context corp-cluster --id-token',
    },
    '<%= config.bin %> <%= command.id %> -e prod --context prod-cluster --unset',
  ]

  static override flags = {
    kubeconfig: Flags.string({
      summary: 'The kubeconfig to edit (default: $KUBECONFIG, then ~/.kube/config).',
      helpValue: 'FILE',
    }),
    user: Flags.string({ summary: 'Name of the users entry (default: tokenctl-ENV).', helpValue: 'NAME' }),
    context: Flags.string({ summary: 'A context whose user becomes this entry; it must exist.', helpValue: 'CONTEXT' }),
    'id-token': Flags.boolean({
      summary: "Hand kubectl the oauth2 env's OpenID Connect ID token, not its access token.",
      description:
        'For a cluster whose OIDC authenticator checks ID tokens. The env must be oauth2 with openid in its scope (or no scope named).',
      exclusive: ['unset'],
    }),
    unset: Flags.boolean({ summary: 'Remove the entry instead.' }),
    force: Flags.boolean({
      summary:
        'Replace or remove a users entry NAME that tokenctl did not write (one whose exec does not run kube-credential).',
    }),
    json: Flags.boolean({ summary: 'Print {kubeconfig, user, context, changed} on stdout.' }),
  }

  public async run(): Promise<void> {
    const config = this.openConfig()
    const env = this.selectEnv(config)
    const user = this.flags.user ?? `tokenctl-${env.name}`
    // eslint-disable-next-line no-control-regex
    if (user.trim() === '' || /[\u0000-\u001f\u007f]/.test(user)) {
      throw new UsageError('--user must be a name of printable characters.', 'Leave it out for tokenctl-ENV.')
    }
    // A kubeconfig that could never work is not written: the same refusal kube-credential gives.
    const refused = this.flags['id-token'] ? idTokenRefusal(env) : undefined
    if (refused) throw refused
    const files = kubeconfigFiles(this.flags.kubeconfig, this.environ, this.environ.HOME || os.homedir())
    const { file, texts } = kubeconfigToEdit(files, this.flags.context)
    const edit = editKubeconfig(texts.get(file), {
      user,
      envName: env.name,
      // This very Node and script: the entry works whatever PATH kubectl is started with.
      program: { node: process.execPath, script: path.resolve(process.argv[1] ?? 'tokenctl') },
      context: this.flags.context,
      unset: this.flags.unset,
      idToken: this.flags['id-token'],
      force: this.flags.force,
      file,
    })
    const { text, changes } = edit
    if (changes.length > 0) replaceToolConfig(file, text)
    const clusterServer = edit.clusterName === undefined ? undefined : clusterServerOf(files, texts, edit.clusterName)
    const clusterHost = clusterServer === undefined ? undefined : hostOf(clusterServer)
    const inConfig = hasEnv(config.read(), env.name)
    // Naming the context is the person's consent that its cluster gets the env's tokens.
    const added = clusterHost && !this.flags.unset && inConfig ? await addEnvHosts(config, env.name, [clusterHost]) : []
    if (this.flags.json) {
      this.outJson({
        kubeconfig: file,
        user,
        context: this.flags.context ?? null,
        changed: changes.length > 0,
        clusterHost: clusterHost ?? null,
        hostAdded: added.length > 0,
      })
    }
    this.info(changes.length > 0 ? `${file}: ${changes.join('; ')}.` : `${file}: nothing to change.`)
    this.tellClusterHost(env, clusterHost, added.length > 0, inConfig)
    if (!this.flags.unset) {
      this.info(
        this.flags.context
          ? `Next: kubectl --context ${shellWord(this.flags.context)} get ns`
          : `Next: kubectl config set-context CONTEXT --user ${shellWord(user)}  (or run again with --context CONTEXT)`,
      )
    }
  }

  /** Which clusters kube-credential will answer, as this run left it (docs/design.md#setup-kube). */
  private tellClusterHost(env: Env, host: string | undefined, added: boolean, inConfig: boolean): void {
    const name = env.name
    if (this.flags.context === undefined) {
      if (!this.flags.unset)
        this.info(
          `kubectl gets ${name}'s tokens only for clusters whose host is one of the env's (${gitHostsOf(env).join(', ') || 'none'}). Add a cluster with: tokenctl setup-kube -e ${name} --context CONTEXT`,
        )
      return
    }
    if (host === undefined) {
      if (!this.flags.unset)
        this.warning(
          `Context "${this.flags.context}" names no cluster with a server, so no host was recorded: kube-credential refuses any cluster not of ${name}'s hosts. Fix the context, then run this again.`,
        )
      return
    }
    if (this.flags.unset) {
      if (gitHostsOf(env).includes(host))
        this.info(
          `Cluster host ${host} stays one of ${name}'s hosts (--unset leaves the env as it is; "tokenctl env add ${name} … --force" without it drops it).`,
        )
    } else if (added) this.info(`Cluster host ${host} now gets ${name}'s tokens (recorded as one of the env's hosts).`)
    else if (gitHostsOf(env).includes(host))
      this.info(`Cluster host ${host} gets ${name}'s tokens (one of the env's hosts).`)
    else if (!inConfig)
      this.warning(
        `Env "${name}" comes from variables, not the config file, so cluster host ${host} cannot be recorded: kube-credential will refuse that cluster. Add the env with: tokenctl env add ${name} --url URL --host ${shellWord(host)}`,
      )
  }
}

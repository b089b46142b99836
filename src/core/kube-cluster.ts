import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'
import { UsageError } from '../base/errors.js'
import { gitHostsOf } from './git-hosts.js'
import { hostOf, isPlainHttpElsewhere } from './host-env.js'
import type { ExecInfo } from '../integrations/kube-credential.js'
import { shellWord } from '../util/shell-quote.js'

/**
 * Which cluster gets an env's token (docs/design.md#kubectl): the one kubectl names in
 * `spec.cluster.server` must be one of the env's hosts, as git's, docker's and terraform's
 * helpers hand tokens only to the env's hosts. A kubeconfig merged from several files can
 * point any context at the user `tokenctl-ENV`; this is what keeps that cluster from
 * getting the token. When kubectl names no cluster (an entry with `provideClusterInfo:
 * false`, written that way by hand, or no request at all) there is nothing to check: the
 * person who wrote that entry chose which clusters use it.
 */
export function clusterRefusal(env: Env, info: Pick<ExecInfo, 'clusterServer'>): UsageError | undefined {
  if (info.clusterServer === undefined) return undefined
  const host = hostOf(info.clusterServer)
  const hosts = gitHostsOf(env)
  if (host !== undefined && hosts.includes(host)) {
    // As git's helper: the token never crosses the network in clear unless the env allows http.
    if (!isPlainHttpElsewhere(info.clusterServer, host, env)) return undefined
    return new UsageError(
      `kubectl asks for a token of env "${env.name}" for the cluster at ${printable(info.clusterServer, 200)}, over plain http to a host that is not loopback; no token was handed out.`,
      `Give the cluster an https:// server in the kubeconfig, or allow http for the env: tokenctl env add ${env.name} … --allow-http --force`,
    )
  }
  const asked = host ?? (info.clusterServer === '' ? 'no server' : `"${printable(info.clusterServer, 80)}"`)
  return new UsageError(
    `kubectl asks for a token of env "${env.name}" for the cluster at ${asked}, which is not one of the env's hosts (${hosts.join(', ') || 'none'}); no token was handed out.`,
    `If that cluster should get ${env.name}'s tokens, run: tokenctl setup-kube -e ${env.name} --context CONTEXT (it records the context's cluster host), or add the host to the env: tokenctl env add ${env.name} … --host ${host ? shellWord(host) : 'HOST'} --force`,
  )
}

import { UsageError } from '../base/errors.js'
import { isObject } from '../util/is-object.js'

/**
 * kubectl's exec credential plugin protocol (docs/design.md#kubectl): the request comes in
 * the KUBERNETES_EXEC_INFO variable, the answer is one ExecCredential object on stdout.
 * Pure: the command and the fast path both print through `formatExecCredential`, so they
 * print the same bytes.
 */
export const KUBE_V1 = 'client.authentication.k8s.io/v1'
export const KUBE_V1BETA1 = 'client.authentication.k8s.io/v1beta1'
export const KUBE_API_VERSIONS = [KUBE_V1, KUBE_V1BETA1] as const
export type KubeApiVersion = (typeof KUBE_API_VERSIONS)[number]

/** The variable kubectl puts the request in. */
export const EXEC_INFO_VARIABLE = 'KUBERNETES_EXEC_INFO'

export interface ExecInfo {
  /** The version to answer in: the one kubectl asked for. */
  apiVersion: KubeApiVersion
  /** kubectl's `spec.interactive`: whether a person is at the plugin's stdin. */
  interactive: boolean
  /**
   * kubectl's `spec.cluster.server`: the API server the token is for, sent when the entry
   * says `provideClusterInfo: true` (setup-kube writes it). Undefined when kubectl sends
   * no cluster; '' when it sends one without a server (nobody's host).
   */
  clusterServer?: string
}

/** More than any request kubectl sends (cluster info with a CA included); a flood is not parsed. */
const MAX_INFO = 1024 * 1024

/**
 * What kubectl asked. An absent or empty variable is a kubectl that sends no request: the
 * ones before 1.20 ran v1beta1 plugins without one (only v1alpha1 had it, and v1 always
 * has it), so the answer is v1beta1 and nobody is assumed at stdin. Anything else that is
 * not a v1 or v1beta1 ExecCredential is a usage error (exit 2): answering in a version
 * kubectl did not ask for would only make it fail with a worse message.
 */
export function parseExecInfo(text: string | undefined): ExecInfo {
  if (text === undefined || text.trim() === '') return { apiVersion: KUBE_V1BETA1, interactive: false }
  const refuse = (what: string) =>
    new UsageError(
      `${EXEC_INFO_VARIABLE} ${what}.`,
      'kubectl sets it when it runs tokenctl from a kubeconfig written by: tokenctl setup-kube',
    )
  let info: unknown
  try {
    if (text.length > MAX_INFO) throw new Error('too long')
    info = JSON.parse(text)
  } catch {
    throw refuse('is not an ExecCredential in JSON')
  }
  if (!isObject(info) || info.kind !== 'ExecCredential') throw refuse('is not an ExecCredential')
  const apiVersion = info.apiVersion
  if (typeof apiVersion !== 'string' || !(KUBE_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    const asked = typeof apiVersion === 'string' ? JSON.stringify(apiVersion.slice(0, 80)) : 'no apiVersion'
    throw new UsageError(
      `kubectl asks for ${asked}; tokenctl answers ${KUBE_V1} and ${KUBE_V1BETA1} only.`,
      `Set the user's exec.apiVersion to ${KUBE_V1} in the kubeconfig, or run: tokenctl setup-kube`,
    )
  }
  const spec = isObject(info.spec) ? info.spec : {}
  const parsed: ExecInfo = { apiVersion: apiVersion as KubeApiVersion, interactive: spec.interactive === true }
  if (spec.cluster !== undefined && spec.cluster !== null) {
    const server = isObject(spec.cluster) ? spec.cluster.server : undefined
    parsed.clusterServer = typeof server === 'string' ? server : ''
  }
  return parsed
}

export interface ExecCredentialAnswer {
  token: string
  /** Epoch ms. */
  expiresAt: number
}

/**
 * The answer: compact JSON on one line and `\n`, the version kubectl asked for, the token
 * and its expiry as RFC 3339 UTC in whole seconds (cut down, never rounded up: kubectl
 * keeps the token until then).
 */
export function formatExecCredential(apiVersion: KubeApiVersion, answer: ExecCredentialAnswer): string {
  return `${JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    status: {
      token: answer.token,
      expirationTimestamp: new Date(Math.floor(answer.expiresAt / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  })}\n`
}

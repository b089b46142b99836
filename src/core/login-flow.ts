import type { LoginFlow } from '../protocols/types.js'
import type { VariableCredentials } from '../base/credentials.js'
import type { Env } from '../base/env-settings.js'
import { LoginRequiredError, UsageError } from '../base/errors.js'

/** What `login` was told, as far as the choice of a flow goes. */
export interface FlowRequest {
  env: Pick<Env, 'name' | 'protocol'>
  /** --flow, as given. */
  flow?: string
  /** --username, as given: a user name means the password flow. */
  username?: string
  /** --password-stdin. */
  passwordStdin?: boolean
  /** The credentials from variables (TOKENCTL_USERNAME/PASSWORD, TOKENCTL_CLIENT_SECRET…). */
  credentials?: VariableCredentials
  /** --no-input or CI=true: nobody is there to approve a device code or a browser page. */
  noInput: boolean
}

/**
 * The flow a login takes (docs/design.md#oauth-20-and-openid-connect): --flow, else what the
 * flags and credential variables can do, else the server's default. Undefined means the
 * latter: only the protocol knows it (Session.defaultFlow), and asking it is a request.
 * Throws before any request is made when the choice cannot work.
 */
export function chooseFlow(request: FlowRequest): LoginFlow | undefined {
  const { env, credentials, noInput } = request
  if (env.protocol === 'api') {
    refuseFlowForApi(env, request.flow)
    return 'password'
  }
  const byPassword = request.passwordStdin || request.username !== undefined || credentials?.password !== undefined
  const flow =
    (request.flow as LoginFlow | undefined) ??
    (byPassword ? 'password' : credentials?.client ? 'client-credentials' : undefined)
  // Nobody to approve a device code or a browser page: refuse before any request is made.
  if (noInput && (flow === 'device' || flow === 'browser' || flow === undefined)) {
    throw new LoginRequiredError(
      `${flow ? `The ${flow} flow needs` : `Logging in to "${env.name}" needs`} a person, and --no-input or CI=true says there is none.`,
      `Use --flow client-credentials with TOKENCTL_CLIENT_SECRET, or --flow password with TOKENCTL_USERNAME and TOKENCTL_PASSWORD.`,
    )
  }
  return flow
}

/** api envs log in with a user name and password only: any other --flow is a usage error (exit 2). */
export function refuseFlowForApi(env: Pick<Env, 'name' | 'protocol'>, given: string | undefined): void {
  if (env.protocol === 'api' && given && given !== 'password') {
    throw new UsageError(
      `--flow ${given} is for oauth2 envs; "${env.name}" uses the api protocol.`,
      'Leave --flow out: api envs log in with a user name and password.',
    )
  }
}

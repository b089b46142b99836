/**
 * terraform's credentials helper protocol (docs/design.md#terraform): terraform runs the
 * helper with its configured args, then a verb and a host name. `get` answers with a
 * credentials object on stdout, `{}` when there is none; every error goes to stderr with a
 * non-zero exit. Pure: no oclif, no I/O.
 */

export const TERRAFORM_VERBS = ['get', 'store', 'forget'] as const
export type TerraformVerb = (typeof TERRAFORM_VERBS)[number]

export function isTerraformVerb(value: string | undefined): value is TerraformVerb {
  return (TERRAFORM_VERBS as readonly string[]).includes(value ?? '')
}

/** The helper's name in terraform's `credentials_helper "tokenctl"` block, and the program terraform looks for. */
export const TERRAFORM_HELPER_NAME = 'tokenctl'
export const TERRAFORM_HELPER_PROGRAM = `terraform-credentials-${TERRAFORM_HELPER_NAME}`

/** More than any credentials object terraform sends to `store`; read to the end all the same. */
export const MAX_TERRAFORM_INPUT = 1024 * 1024

/** `{"token":"…"}` and a newline: the one property terraform defines. */
export function formatTerraformToken(token: string): string {
  return `${JSON.stringify({ token })}\n`
}

/** tokenctl has nothing for this host: an empty object, exit 0, so terraform goes on without. */
export const TERRAFORM_NOTHING = '{}\n'

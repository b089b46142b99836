/**
 * The README's Integrations section shows the config lines each setup command writes: they
 * are checked here against the code that writes them, so the README cannot drift from it.
 */
import fs from 'node:fs'
import path from 'node:path'

import { parse } from 'yaml'

import { editDockerConfig } from '../../src/integrations/docker-config.js'
import { execUser } from '../../src/integrations/kubeconfig.js'
import { TERRAFORM_HELPER_NAME, TERRAFORM_HELPER_PROGRAM } from '../../src/integrations/terraform-credential.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const integrations = readme.slice(
  readme.indexOf('## Integrations'),
  readme.indexOf('\n## ', readme.indexOf('## Integrations') + 1),
)

/** The fenced blocks of one language in the Integrations section. */
const blocks = (language: string): string[] =>
  [...integrations.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!)

test('the section exists and covers git, kubectl, docker and terraform', () => {
  for (const tool of ['**git credential helper.**', '**kubectl.**', '**docker.**', '**terraform.**'])
    expect(integrations).toContain(tool)
})

test("kubectl: the users entry is setup-kube's, field for field (the install hint shortened)", () => {
  const [yaml] = blocks('yaml')
  const { users } = parse(yaml!) as { users: Array<{ name: string; user: { exec: Record<string, unknown> } }> }
  const program = { node: '/usr/local/bin/node', script: '/usr/local/lib/node_modules/tokenctl/bin/run.js' }
  const { installHint, ...written } = (execUser('prod', program) as { exec: Record<string, unknown> }).exec
  const { installHint: shown, ...readmeExec } = users[0]!.user.exec
  expect(users[0]!.name).toBe('tokenctl-prod')
  expect(readmeExec).toEqual(written)
  expect(String(installHint)).toMatch(/run: tokenctl setup-kube -e prod$/)
  expect(String(shown)).toMatch(/run: tokenctl setup-kube -e prod$/)
})

test("docker: the credHelpers lines are setup-docker's for the env's URL host and its --host", () => {
  const [json] = blocks('json')
  const shown = JSON.parse(`{${json!}}`) as { credHelpers: Record<string, string> }
  const { text } = editDockerConfig(undefined, '/home/me/.docker/config.json', {
    hosts: ['api.example.com', 'registry.example.com'],
  })
  expect((JSON.parse(text) as { credHelpers: unknown }).credHelpers).toEqual(shown.credHelpers)
})

test('terraform: the block names the helper tokenctl ships, and the link is to that program', () => {
  const [hcl] = blocks('hcl')
  expect(hcl).toContain(`credentials_helper "${TERRAFORM_HELPER_NAME}" {`)
  const bin = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> })
    .bin[TERRAFORM_HELPER_PROGRAM]
  expect(bin).toBeDefined()
  expect(integrations).toContain(
    `tokenctl/${path.posix.normalize(bin!)}" ~/.terraform.d/plugins/${TERRAFORM_HELPER_PROGRAM}`,
  )
})

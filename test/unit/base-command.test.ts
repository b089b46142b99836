/**
 * The unexpected-internal-error path of the base command (exit 1): the message and, with
 * TOKENCTL_DEBUG=1, the stack are redacted like everything else on stderr (docs/design.md#secrets-never-leak).
 * In process, with a command that fails the way a bug would.
 */
import { BaseCommand } from '../../src/cli/base-command.js'
import { StoreUnavailableError } from '../../src/base/errors.js'
import { forgetSecrets, rememberSecret } from '../../src/base/secrets.js'

const SECRET = 'internal-error-s3cr3t-Zq9'

class Boom extends BaseCommand<typeof Boom> {
  public async run(): Promise<void> {
    rememberSecret(SECRET)
    throw new TypeError(`cannot read "x" of ${SECRET}`)
  }
}

/** A typed error: what the fast path's error report says too (src/cli/error-report.ts). */
class NoStore extends BaseCommand<typeof NoStore> {
  public async run(): Promise<void> {
    rememberSecret(SECRET)
    throw new StoreUnavailableError(`The keychain cannot be used: ${SECRET}.`, 'Unlock it.')
  }
}

async function stderrOf(work: () => Promise<unknown>): Promise<{ text: string; error: unknown }> {
  const chunks: string[] = []
  const original = process.stderr.write
  process.stderr.write = ((chunk: unknown) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  let error: unknown
  try {
    await work()
  } catch (caught) {
    error = caught
  } finally {
    process.stderr.write = original
  }
  return { text: chunks.join(''), error }
}

afterEach(() => {
  delete process.env.TOKENCTL_DEBUG
  forgetSecrets()
})

test('exit 1, the message redacted, and a pointer to TOKENCTL_DEBUG', async () => {
  const { text, error } = await stderrOf(() => Boom.run([], process.cwd()))
  expect((error as { oclif?: { exit?: number } }).oclif?.exit).toBe(1)
  expect(text).toContain('Error: unexpected internal error: cannot read "x" of ***\n')
  expect(text).toContain('run again with TOKENCTL_DEBUG=1')
  expect(text).not.toContain(SECRET)
})

test('with TOKENCTL_DEBUG=1 the stack is shown, redacted too', async () => {
  process.env.TOKENCTL_DEBUG = '1'
  const { text } = await stderrOf(() => Boom.run([], process.cwd()))
  expect(text).toContain('TypeError: cannot read "x" of ***\n    at ')
  expect(text).not.toContain(SECRET)
})

test('a typed error: its sentence after "Error:", its fix, its exit code; redacted', async () => {
  const { text, error } = await stderrOf(() => NoStore.run([], process.cwd()))
  expect((error as { oclif?: { exit?: number } }).oclif?.exit).toBe(6)
  expect(text).toBe('Error: The keychain cannot be used: ***.\nUnlock it.\n')
})

test('a typed error with TOKENCTL_DEBUG=1: the stack under the fix', async () => {
  process.env.TOKENCTL_DEBUG = '1'
  const { text } = await stderrOf(() => NoStore.run([], process.cwd()))
  expect(text).toMatch(
    /^Error: The keychain cannot be used: \*\*\*\.\nUnlock it\.\nStoreUnavailableError: The keychain cannot be used: \*\*\*\.\n {4}at /,
  )
})

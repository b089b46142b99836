import { rememberSecret } from '../base/secrets.js'

/**
 * Terminal prompts, on stderr so that stdout keeps only results. Loaded on demand:
 * most runs never ask anything.
 */
export async function askText(message: string, defaultValue?: string): Promise<string> {
  const { input } = await import('@inquirer/prompts')
  return input({ message, default: defaultValue, required: true }, { output: process.stderr })
}

export async function askSecret(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts')
  const secret = await password(
    { message, mask: true, validate: (value) => value.length > 0 || 'Required' },
    { output: process.stderr },
  )
  rememberSecret(secret)
  return secret
}

/** Prompts need a person at a terminal on both ends. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY)
}

/** docs/design.md#commands --password-stdin: stdin to EOF, minus one trailing "\n" or "\r\n". */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  // Only --password-stdin reads this way: what came in is a password.
  rememberSecret(text)
  return text
}

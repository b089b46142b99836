import { spawn } from 'node:child_process'

import { BIN } from './cli.js'

/**
 * The CLI at a terminal: util-linux `script` gives it a real pty, and the test types
 * at it. Used wherever a prompt must meet a real TTY.
 */
export function inTerminal(args: string[], env: Record<string, string>) {
  // script runs `$SHELL -c command` (/bin/sh when SHELL is unset, as in CI). dash stays
  // behind as tokenctl's parent, in the terminal's foreground group, and a Ctrl-C would end
  // it (script then reports 130) whatever tokenctl does: `exec` puts tokenctl in its place.
  const command = ['exec', ...[process.execPath, BIN, ...args].map((word) => `'${word}'`)].join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let screen = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const waitFor = async (text: string) => {
    for (let i = 0; i < 400 && !screen.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    if (!screen.includes(text)) throw new Error(`never saw ${JSON.stringify(text)} in ${JSON.stringify(screen)}`)
  }
  return {
    type: (text: string) => child.stdin.write(text),
    waitFor,
    exited,
    screen: () => screen,
    kill: () => child.kill('SIGKILL'),
  }
}

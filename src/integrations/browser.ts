import { spawn } from 'node:child_process'

import type { Environ } from '../base/paths.js'

/**
 * Open a URL in the person's browser: the command in BROWSER with the URL as its one
 * argument, else the platform's opener (docs/design.md#oauth-20-and-openid-connect). Fire and forget: the URL is always
 * printed too, so a machine with no browser (SSH, a container) loses nothing.
 * Returns false when nothing could even be tried.
 */
export function openInBrowser(url: string, environ: Environ, platform: NodeJS.Platform = process.platform): boolean {
  const command = opener(environ, platform)
  if (!command) return false
  const [program, ...args] = command
  try {
    // The browser may outlive us by days and has no business with TOKENCTL_PASSWORD,
    // TOKENCTL_CLIENT_SECRET or TOKENCTL_REFRESH_TOKEN (docs/design.md#secrets-never-leak): none of ours goes to it.
    const env = Object.fromEntries(Object.entries(environ).filter(([name]) => !name.startsWith('TOKENCTL_')))
    const child = spawn(program!, [...args, url], { detached: true, stdio: 'ignore', env })
    child.on('error', () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}

function opener(environ: Environ, platform: NodeJS.Platform): string[] | undefined {
  if (environ.BROWSER) return [environ.BROWSER]
  if (platform === 'darwin') return ['open']
  // rundll32 takes the URL as one argument; `cmd /c start` would re-parse its & and ^.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler']
  // With no display there is no browser to open, only a URL to print.
  if (!environ.DISPLAY && !environ.WAYLAND_DISPLAY) return undefined
  return ['xdg-open']
}

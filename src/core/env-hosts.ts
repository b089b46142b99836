import type { Config, ConfigData } from './config.js'
import { envSettingsOf } from './config-file.js'
import { gitHostsOf } from './git-hosts.js'

/**
 * Add hosts (`host[:port]`, as hostOf or gitHost give them) to a config env's hosts
 * (`--host`), under the config's lock. Returns those that were not the env's hosts yet;
 * an env that is not in the config file (made from variables) gets none.
 */
export async function addEnvHosts(config: Config, name: string, hosts: string[]): Promise<string[]> {
  const missing = (data: ConfigData): string[] => {
    const settings = envSettingsOf(data, name)
    if (!settings) return []
    const known = gitHostsOf({ name, ...settings })
    return [...new Set(hosts.map((host) => host.toLowerCase()))].filter((host) => !known.includes(host))
  }
  // Nothing to add is nothing written: running setup-kube again leaves the file alone.
  if (missing(config.read()).length === 0) return []
  let added: string[] = []
  await config.update((data) => {
    added = missing(data)
    const settings = envSettingsOf(data, name)
    if (settings && added.length > 0) settings.gitHosts = [...(settings.gitHosts ?? []), ...added]
  })
  return added
}

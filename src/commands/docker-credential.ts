import { Args } from '@oclif/core'
import os from 'node:os'

import { writeStdout } from '../cli/fd-output.js'
import { BaseCommand } from '../cli/base-command.js'
import { gitCredentialReport, writeHelperNote } from '../cli/error-report.js'
import { withExitCodes } from '../cli/exit-codes-help.js'
import { readStdinUpTo } from '../cli/stdin.js'
import type { ConfigData } from '../core/config.js'
import { contextFor } from '../core/context.js'
import { DEFAULT_GIT_USER } from '../core/git-hosts.js'
import { envForHost, hostOf, hostsOfEnvs, isPlainHttpElsewhere } from '../core/host-env.js'
import { printable } from '../base/env-name.js'
import type { Env } from '../base/env-settings.js'
import { ExitCode, isTokenctlError, type TokenctlError } from '../base/errors.js'
import {
  DOCKER_HELPER_NAME,
  formatDockerAnswer,
  formatDockerList,
  formatDockerVersion,
  isDockerVerb,
  line,
  MAX_DOCKER_INPUT,
  MISSING_SERVER_URL,
  NOT_FOUND,
  parseStoreRequest,
  serverAddressOf,
  USAGE,
} from '../integrations/docker-credential.js'
import { dockerConfigPath } from '../integrations/docker-config.js'

/** docker's helpers end every failure with exit 1; docker looks at the words on stdout, not the code. */
const FAILED = 1

export default class DockerCredential extends BaseCommand<typeof DockerCredential> {
  static override hidden = true
  static override summary = "docker's credential helper: what docker-credential-tokenctl runs."
  static override description = withExitCodes(
    `docker runs docker-credential-tokenctl for the registries that "tokenctl setup-docker" names in credHelpers; you do not. The verb is the one argument and the server address comes on stdin. The env is the one whose hosts include that address's host (the current env first; TOKENCTL_ENV forces one). "get" prints {"ServerURL","Username","Secret"} with a fresh access token as the secret; "erase" drops the cached access token, so the next "get" refreshes; "store" is accepted for our hosts and ignored; "list" prints every host of every env with its user; "version" prints one line; any other verb prints the usage. Answers and errors are on stdout, as docker expects; every failure, an unknown verb too, is exit 1 (as with docker's own helpers, whose exit code docker does not read), and "credentials not found in native keychain" tells docker that tokenctl has nothing for that registry.`,
    [
      [0, 'answered'],
      [1, 'not found, or any failure'],
    ],
  )

  static override examples = [
    {
      description: 'What docker does:',
      command: 'echo registry.example.com | docker-credential-tokenctl get',
    },
  ]

  static override args = {
    verb: Args.string({ description: 'get, store, erase, list or version.' }),
  }

  public async run(): Promise<void> {
    const { verb } = this.args
    if (!isDockerVerb(verb)) {
      // The protocol's usage line, on stdout like every other word to docker; exit 1 as docker's own helpers.
      const unknown = verb === undefined ? '' : `Unknown credential action "${printable(verb, 40)}". `
      return this.fail(`${unknown}${USAGE}`)
    }
    try {
      switch (verb) {
        case 'version':
          writeStdout(formatDockerVersion(this.config.version))
          return
        case 'list':
          return this.list()
        case 'store':
          return await this.storeVerb()
        case 'get':
          return await this.get()
        case 'erase':
          return await this.erase()
      }
    } catch (error) {
      if (!isTokenctlError(error)) throw error
      this.fail(oneLine(error))
    }
  }

  private list(): void {
    const hosts = hostsOfEnvs(this.openConfig().read(), this.environ, this.flags.env)
    // No store, no network: the user an env names, else the one docker is told when nobody is named.
    writeStdout(formatDockerList([...hosts].map(([host, env]) => [host, env.username ?? DEFAULT_GIT_USER])))
  }

  private async storeVerb(): Promise<void> {
    const input = await readStdinUpTo(MAX_DOCKER_INPUT)
    if (input === undefined) return this.fail('the credentials docker sent are too large')
    const request = parseStoreRequest(input)
    if ('error' in request) return this.fail(request.error)
    const host = hostOf(request.serverUrl)
    if (!host || !this.envFor(host)) {
      // setup-docker --unset removes only the env's own hosts: this entry is one a person wrote.
      const key = JSON.stringify(host ?? printable(request.serverUrl, 200))
      const file = dockerConfigPath(this.environ, this.environ.HOME || os.homedir())
      return this.fail(
        `tokenctl keeps no credentials for ${printable(request.serverUrl, 200)}; remove ${key}: "${DOCKER_HELPER_NAME}" from credHelpers in ${file}.`,
      )
    }
    // Ours: tokenctl's own login is what counts, so the password docker was given is not kept.
  }

  private async get(): Promise<void> {
    const address = await this.address()
    if (address === undefined) return
    const found = this.envFor(address.host)
    if (!found || isPlainHttpElsewhere(address.serverUrl, address.host, found.env)) return this.fail(NOT_FOUND)
    const { session, store } = await contextFor(found.env, found.config, this.contextOptions)
    this.track(store)
    let token
    try {
      token = await session.getToken()
    } catch (error) {
      if (!isTokenctlError(error) || error.exitCode !== ExitCode.loginRequired) throw error
      // docker goes on without credentials when told "not found"; the person learns why on stderr.
      writeHelperNote(gitCredentialReport(error, found.env.name).message)
      return this.fail(NOT_FOUND)
    }
    writeStdout(
      formatDockerAnswer({
        serverUrl: address.serverUrl,
        username: token.user ?? found.env.username ?? DEFAULT_GIT_USER,
        secret: token.accessToken,
      }),
    )
  }

  private async erase(): Promise<void> {
    const address = await this.address()
    if (address === undefined) return
    const found = this.envFor(address.host)
    if (!found) return this.fail(NOT_FOUND)
    const { session, store } = await contextFor(found.env, found.config, this.contextOptions)
    this.track(store)
    await session.dropAccessToken()
  }

  /** The server address on stdin and its host; undefined once the failure is said. */
  private async address(): Promise<{ serverUrl: string; host: string } | undefined> {
    const input = await readStdinUpTo(MAX_DOCKER_INPUT)
    // Too much to be an address: nothing can be found for it.
    if (input === undefined) return void this.fail(NOT_FOUND)
    const serverUrl = serverAddressOf(input)
    if (serverUrl === '') return void this.fail(MISSING_SERVER_URL)
    const host = hostOf(serverUrl)
    if (!host) return void this.fail(NOT_FOUND)
    return { serverUrl, host }
  }

  private envFor(host: string): { env: Env; config: ConfigData } | undefined {
    const config = this.openConfig().read()
    const env = envForHost(host, config, this.environ, this.flags.env)
    return env && { env, config }
  }

  private fail(message: string): void {
    writeStdout(line(message))
    process.exitCode = FAILED
  }
}

/** An error as docker shows it: its sentence and its fix on one line (docker prints stdout inside its own message). */
function oneLine(error: TokenctlError): string {
  return `${error.message}${error.fix ? ` ${error.fix}` : ''}`.replace(/[\r\n]+/g, ' ')
}

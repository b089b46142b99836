/**
 * `npm run bench`: tokenctl's start-up on its hot paths, measured side by side with
 * `node -e 0` (the floor) and `gh auth token` (when gh is installed), in one run, with
 * NODE_EXTRA_CA_CERTS unset (it adds ~70 ms to every Node 20 start here; tokenctl's own
 * cost is what is measured). Prints a table of medians and spreads, writes the same as
 * .bench/results.json. Starts its own auth server; uses a throwaway config dir. Last, what a
 * long-running program pays per token when it reads the file `sink` keeps fresh, against a
 * `tokenctl token` per call.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startApiServer } from '../test/support/api-server.js'
import { type KeyringSession, startKeyring } from '../test/support/keyring.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin', 'run.js')
const RUNS = Number(process.env.BENCH_RUNS ?? 30)
const WARMUP = 3
/** The suffix of the cases run on Node 24, whose ratio is taken against Node 24's own `node -e 0`. */
const ON_24 = '(Node 24)'

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenctl-bench-'))
const server = await startApiServer()
let keyring: KeyringSession | undefined

const base: Record<string, string> = {}
for (const [key, value] of Object.entries(process.env)) {
  if (
    value !== undefined &&
    !/^(CI|TOKENCTL_.*|XDG_.*|NODE_EXTRA_CA_CERTS|NODE_OPTIONS|DBUS_SESSION_BUS_ADDRESS)$/.test(key)
  )
    base[key] = value
}
fs.mkdirSync(path.join(work, 'run'), { mode: 0o700 })
Object.assign(base, {
  HOME: work,
  TOKENCTL_CONFIG_DIR: path.join(work, 'config'),
  XDG_RUNTIME_DIR: path.join(work, 'run'),
  XDG_STATE_HOME: path.join(work, 'state'),
  XDG_CACHE_HOME: path.join(work, 'cache'),
  DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
})

/** Asynchronous, because the auth server lives in this process and must keep answering. */
function tokenctl(args: string[], env: Record<string, string> = {}, input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...base, ...env } })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`tokenctl ${args.join(' ')} failed (${code}): ${stderr}`)),
    )
    child.stdin.end(input)
  })
}

interface Case {
  name: string
  command: string[]
  env?: Record<string, string>
  input?: string
}

interface Measured {
  name: string
  medianMs: number
  minMs: number
  maxMs: number
  p90Ms: number
  peakRssKb: number | null
}

/** Wall time of one run (cache hits: the server is not asked), and its peak RSS from GNU time when installed. */
function once(test: Case): { ms: number; rssKb: number | null } {
  const useTime = fs.existsSync('/usr/bin/time')
  const [file, ...args] = useTime ? ['/usr/bin/time', '-f', '%M', ...test.command] : test.command
  const started = process.hrtime.bigint()
  const result = spawnSync(file!, args, { env: { ...base, ...test.env }, input: test.input ?? '', encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${test.name}: exit ${result.status}: ${result.stderr}`)
  const rss = useTime ? Number(result.stderr.trim().split('\n').pop()) : NaN
  return { ms, rssKb: Number.isFinite(rss) ? rss : null }
}

/**
 * All cases in turns (one run of each, then the next round), not one case after another:
 * on a shared machine a neighbour's busy second then slows every case alike instead of
 * one, and the ratios to `node -e 0` stay put from run to run.
 */
function measureInTurns(cases: Case[]): Measured[] {
  for (let i = 0; i < WARMUP; i++) for (const test of cases) once(test)
  const times = cases.map(() => [] as number[])
  const rss = cases.map(() => [] as number[])
  for (let round = 0; round < RUNS; round++) {
    if (round % 10 === 0) process.stderr.write(`round ${round + 1} of ${RUNS}…\n`)
    cases.forEach((test, i) => {
      const { ms, rssKb } = once(test)
      times[i]!.push(ms)
      if (rssKb !== null) rss[i]!.push(rssKb)
    })
  }
  return cases.map((test, i) => {
    const sorted = times[i]!.sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
    return {
      name: test.name,
      medianMs: at(0.5),
      minMs: sorted[0]!,
      maxMs: sorted[sorted.length - 1]!,
      p90Ms: at(0.9),
      peakRssKb: rss[i]!.length ? Math.max(...rss[i]!) : null,
    }
  })
}

/** The speed goals of docs/benchmarks.md, judged on this run's medians. */
function verdict(
  name: string,
  vsNode: number,
  rssVsNode: number | null,
  medianMs: number,
  ghMs: number | undefined,
): string {
  const judge = (ok: boolean, goal: string) => `${goal}: ${ok ? 'met' : 'MISSED'}`
  const rss = rssVsNode === null ? '' : `; RSS ≤ 1.5 × ${rssVsNode <= 1.5 ? 'met' : 'MISSED'}`
  if (name.startsWith('token (cache hit, file store)')) {
    const belowGh = ghMs === undefined ? '' : `; below gh ${medianMs < ghMs ? 'met' : 'MISSED'}`
    return `${judge(vsNode <= 1.6, '≤ 1.6 ×')}${belowGh}${rss}`
  }
  if (name.startsWith('token (cache hit, keychain')) return judge(vsNode <= 2.0, '≤ 2.0 ×')
  if (name.startsWith('git-credential') || name.startsWith('kube-credential')) return judge(vsNode <= 1.6, '≤ 1.6 ×')
  if (name === 'status' || name === 'env list') return judge(vsNode <= 4, '≤ 4 ×')
  if (name === 'status (keychain store)')
    return IN_PROCESS_KEYCHAIN
      ? judge(vsNode <= 2.5, '≤ 2.5 ×')
      : '≤ 2.5 × where process.execve exists; this Node has none and keeps the helper process: see the Node 24 row'
  if (name === `status (keychain store) ${ON_24}`) return judge(vsNode <= 2.5, '≤ 2.5 × (vs Node 24 -e 0)')
  return ''
}

async function crowd(count: number): Promise<{ refreshes: number; wallMs: number; allSame: boolean }> {
  const record = JSON.parse(fs.readFileSync(path.join(base.TOKENCTL_CONFIG_DIR!, 'credentials.json'), 'utf8'))
  record.envs.bench.accessExpiresAt = Date.now() - 1000
  fs.writeFileSync(path.join(base.TOKENCTL_CONFIG_DIR!, 'credentials.json'), JSON.stringify(record), { mode: 0o600 })
  const before = server.count('/auth/token/refresh')
  const started = Date.now()
  const outputs = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, [bin, 'token', '--store', 'file'], { env: base })
          let out = ''
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
          child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))))
        }),
    ),
  )
  return {
    refreshes: server.count('/auth/token/refresh') - before,
    wallMs: Date.now() - started,
    allSame: new Set(outputs).size === 1,
  }
}

/** Wall time of one run, spawned asynchronously: a `refresh` needs the auth server of this process to answer. */
function timed(test: Case): Promise<number> {
  const [file, ...args] = test.command
  const started = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env: { ...base, ...test.env } })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('close', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - started) / 1e6)
        : reject(new Error(`${test.name}: exit ${code}: ${stderr}`)),
    )
    child.stdin.end(test.input ?? '')
  })
}

/** Medians of `cases` taken in turns, as measureInTurns does, one process at a time. */
async function mediansInTurns(cases: Case[]): Promise<Map<string, number>> {
  for (let i = 0; i < WARMUP; i++) for (const test of cases) await timed(test)
  const times = cases.map(() => [] as number[])
  for (let round = 0; round < RUNS; round++) {
    if (round % 10 === 0) process.stderr.write(`compile cache: round ${round + 1} of ${RUNS}…\n`)
    for (const [i, test] of cases.entries()) times[i]!.push(await timed(test))
  }
  return new Map(
    cases.map((test, i) => {
      const sorted = times[i]!.sort((a, b) => a - b)
      return [test.name, sorted[Math.floor(sorted.length / 2)]!]
    }),
  )
}

/** The pinned Node 24 of scripts/node-line.mjs (fetched from the npm registry once), or undefined. */
function nodeLine24(): string | undefined {
  const fetched = spawnSync(process.execPath, [path.join(root, 'scripts', 'node-line.mjs'), '24'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (fetched.status === 0) return fetched.stdout.trim()
  console.error('Node 24 could not be fetched (scripts/node-line.mjs 24): its rows are left out.')
  return undefined
}

/** The machine's Node has process.execve (22.15+, 23.11+): keychain calls run in-process there. */
const IN_PROCESS_KEYCHAIN = typeof (process as { execve?: unknown }).execve === 'function'

interface CompileCacheLine {
  node: string
  floorMs: number
  cases: Array<{ name: string; warmMs: number; offMs: number; warmVsOff: number; warmVsNode: number }>
}

/**
 * What `module.enableCompileCache` (turned on in bin/run.js from Node 22 on) buys where it can:
 * the full path, oclif and all, for a cached `token` with the fast path off and for a `refresh`
 * against the local server, each with the cache warm (the warm-ups fill it) and with it
 * disabled (NODE_DISABLE_COMPILE_CACHE=1), on this Node (20: no compile cache, the control) and
 * on Node 24 from scripts/node-line.mjs. All cases in turns, like the main table; medians.
 */
async function compileCacheBench(node24: string | undefined): Promise<CompileCacheLine[]> {
  const nodes = node24 ? [process.execPath, node24] : [process.execPath]
  const fullPath = { TOKENCTL_STORE: 'file', TOKENCTL_FAST_PATH: '0' }
  const off = { NODE_DISABLE_COMPILE_CACHE: '1' }
  const version = (node: string) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
  const commands = [
    { name: 'token (full path, cache hit)', args: ['token'] },
    { name: 'refresh (local server)', args: ['refresh', '-q'] },
  ]
  const cases: Case[] = nodes.flatMap((node) => [
    { name: `${node}|node -e 0`, command: [node, '-e', '0'] },
    ...commands.flatMap(({ name, args }) => [
      { name: `${node}|${name}|warm`, command: [node, bin, ...args], env: fullPath },
      { name: `${node}|${name}|off`, command: [node, bin, ...args], env: { ...fullPath, ...off } },
    ]),
  ])
  const measured = await mediansInTurns(cases)
  return nodes.map((node) => {
    const floorMs = measured.get(`${node}|node -e 0`)!
    return {
      node: version(node),
      floorMs,
      cases: commands.map(({ name }) => {
        const warmMs = measured.get(`${node}|${name}|warm`)!
        const offMs = measured.get(`${node}|${name}|off`)!
        return { name, warmMs, offMs, warmVsOff: warmMs / offMs, warmVsNode: warmMs / floorMs }
      }),
    }
  })
}

function printCompileCache(lines: CompileCacheLine[]): void {
  const pad = (text: string, width: number) => text.padEnd(width)
  const cacheDir = path.join(base.XDG_CACHE_HOME!, 'tokenctl', 'compile-cache')
  const files = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir, { recursive: true }).length : 0
  console.log(
    `
Compile cache on the full path (TOKENCTL_FAST_PATH=0, file store), ${RUNS} runs in turns; warm: ${cacheDir} (${files} entries), off: NODE_DISABLE_COMPILE_CACHE=1
`,
  )
  console.log(
    `${pad('node', 11)}${pad('case', 30)}${pad('warm', 11)}${pad('off', 11)}${pad('warm/off', 10)}× node -e 0 (warm)`,
  )
  for (const line of lines) {
    console.log(`${pad(line.node, 11)}${pad('node -e 0', 30)}${pad(`${line.floorMs.toFixed(1)} ms`, 11)}`)
    for (const c of line.cases) {
      console.log(
        `${pad(line.node, 11)}${pad(c.name, 30)}${pad(`${c.warmMs.toFixed(1)} ms`, 11)}${pad(`${c.offMs.toFixed(1)} ms`, 11)}${pad(c.warmVsOff.toFixed(2), 10)}${c.warmVsNode.toFixed(2)}`,
      )
    }
  }
}

/** Calls in each loop of the token-file section. */
const FILE_LOOP = 1000

interface FileVsProcess {
  loadAverage: number
  bash: string
  rounds: number
  calls: number
  refreshes: number
  /** Per-call medians over the rounds, in microseconds. */
  perCallUs: { nodeRead: number; shellRead: number; process: number }
  goal: { nodeRead: boolean; shellRead: boolean }
}

/**
 * What a long-running program pays per token, read from the file `sink` keeps fresh, against
 * a `tokenctl token` cache hit per call (docs/design.md#long-running-programs): 1,000 reads
 * with Node's readFileSync in this process, 1,000 `t=$(<"$F")` in a bash loop (bash 5.2
 * reads the file itself, with no process: strace shows no clone), and 1,000
 * `t=$(tokenctl token)` in a bash loop. The shell loops time themselves ($EPOCHREALTIME), so
 * that bash's own start is not counted; each loop checks that it read the token in the file.
 * Rounds in turns as everywhere, one per ten BENCH_RUNS (at least one): a round costs
 * 1,000 tokenctl starts.
 */
async function fileVsProcess(fileStore: Record<string, string>): Promise<FileVsProcess> {
  const dir = path.join(work, 'sink')
  fs.mkdirSync(dir, { mode: 0o700 })
  const file = path.join(dir, 'token')
  await tokenctl(['sink', '--once', '-q', '--file', file, '--header-file', path.join(dir, 'header')], fileStore)
  const token = fs.readFileSync(file, 'utf8')
  const env = { ...fileStore, F: file, NODE: process.execPath, BIN: bin, N: String(FILE_LOOP) }
  // Prints the loop's own time in µs; exit 1 when the last value read is not the file's token.
  const loop = (body: string) =>
    `s=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do ${body}; done; e=$EPOCHREALTIME; ` +
    `[ "$t" = "$(<"$F")" ] || exit 1; echo $(( \${e//[!0-9]/} - \${s//[!0-9]/} ))`
  const shell = (name: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn('bash', ['-c', loop(body)], { env: { ...base, ...env } })
      let out = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.on('close', (code) =>
        code === 0 ? resolve(Number(out.trim()) / FILE_LOOP) : reject(new Error(`${name}: exit ${code}: ${stderr}`)),
      )
    })
  const nodeRead = (): number => {
    let read = ''
    const started = process.hrtime.bigint()
    for (let i = 0; i < FILE_LOOP; i++) read = fs.readFileSync(file, 'utf8')
    const us = Number(process.hrtime.bigint() - started) / 1e3 / FILE_LOOP
    if (read !== token) throw new Error('readFileSync: not the token in the file')
    return us
  }
  const cases = {
    nodeRead: async () => nodeRead(),
    shellRead: () => shell('bash $(<"$F")', 't=$(<"$F")'),
    process: () => shell('tokenctl token loop', 't=$("$NODE" "$BIN" token)'),
  }
  const loadAverage = os.loadavg()[0]!
  const bash = spawnSync('bash', ['-c', 'echo "$BASH_VERSION"'], { encoding: 'utf8' }).stdout.trim()
  const rounds = Math.max(1, Math.round(RUNS / 10))
  const before = server.count('/auth/token/refresh')
  const times: Record<keyof typeof cases, number[]> = { nodeRead: [], shellRead: [], process: [] }
  for (const run of Object.values(cases)) await run() // warm-up: the page cache, bash, the compile cache
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`token file vs process: round ${round + 1} of ${rounds}…\n`)
    for (const [name, run] of Object.entries(cases)) times[name as keyof typeof cases].push(await run())
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  const perCallUs = {
    nodeRead: median(times.nodeRead),
    shellRead: median(times.shellRead),
    process: median(times.process),
  }
  return {
    loadAverage,
    bash,
    rounds,
    calls: FILE_LOOP,
    refreshes: server.count('/auth/token/refresh') - before,
    perCallUs,
    goal: {
      nodeRead: perCallUs.nodeRead < perCallUs.process / 100,
      shellRead: perCallUs.shellRead < perCallUs.process / 100,
    },
  }
}

function printFileVsProcess(result: FileVsProcess): void {
  const pad = (text: string, width: number) => text.padEnd(width)
  const { perCallUs: us, goal } = result
  const cost = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(1)} µs`)
  const share = (value: number) => `${((100 * value) / us.process).toFixed(2)} %`
  console.log(
    `\nToken file vs a process per call: ${result.calls} calls per loop, ${result.rounds} round(s) in turns after a warm-up, medians per call; bash ${result.bash}; load average ${result.loadAverage.toFixed(2)} at the start; ${result.refreshes === 0 ? 'every call a cache hit' : `${result.refreshes} refresh request(s): NOT every call a cache hit`}\n`,
  )
  console.log(`${pad('case', 44)}${pad('per call', 12)}${pad('of a process', 14)}goal`)
  const rows: Array<[string, number, string]> = [
    ['readFileSync (Node, in-process)', us.nodeRead, `< 1 %: ${goal.nodeRead ? 'met' : 'MISSED'}`],
    ['t=$(<"$F") (bash loop, no process)', us.shellRead, `< 1 %: ${goal.shellRead ? 'met' : 'MISSED'}`],
    ['t=$(tokenctl token) (bash loop, cache hit)', us.process, ''],
  ]
  for (const [name, value, verdictText] of rows)
    console.log(`${pad(name, 44)}${pad(cost(value), 12)}${pad(share(value), 14)}${verdictText}`)
}

try {
  await tokenctl(['env', 'add', 'bench', '--url', server.url, '--git-host', 'git.example.com', '--use', '-q'])
  await tokenctl(['login', '--username', 'alice', '--password-stdin', '-q', '--store', 'file'], {}, 'wonderland')
  const fileStore = { TOKENCTL_STORE: 'file' }
  const node24 = nodeLine24()
  const cases: Case[] = [
    { name: 'node -e 0', command: [process.execPath, '-e', '0'] },
    { name: 'token (cache hit, file store)', command: [process.execPath, bin, 'token'], env: fileStore },
    {
      name: 'git-credential get (cache hit)',
      command: [process.execPath, bin, 'git-credential', 'get'],
      env: fileStore,
      input: 'protocol=https\nhost=git.example.com\n\n',
    },
    {
      name: 'kube-credential (cache hit)',
      command: [process.execPath, bin, 'kube-credential'],
      env: {
        ...fileStore,
        KUBERNETES_EXEC_INFO:
          '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}',
      },
    },
    { name: 'status', command: [process.execPath, bin, 'status'], env: fileStore },
    { name: 'env list', command: [process.execPath, bin, 'env', 'list'], env: fileStore },
  ]

  keyring = await startKeyring()
  if (keyring) {
    const env = { DBUS_SESSION_BUS_ADDRESS: keyring.address }
    await tokenctl(['login', '--username', 'alice', '--password-stdin', '-q'], env, 'wonderland')
    cases.splice(2, 0, { name: 'token (cache hit, keychain store)', command: [process.execPath, bin, 'token'], env })
    cases.push({ name: 'status (keychain store)', command: [process.execPath, bin, 'status'], env })
    // Where keychain calls run in-process (not Node 20): the same case beside that line's own floor.
    if (node24)
      cases.push(
        { name: `node -e 0 ${ON_24}`, command: [node24, '-e', '0'] },
        { name: `status (keychain store) ${ON_24}`, command: [node24, bin, 'status'], env },
      )
  } else {
    console.error(
      'gnome-keyring not available: the keychain case is left out (apt-get install gnome-keyring dbus-x11).',
    )
  }

  const gh = spawnSync('gh', ['--version'], { encoding: 'utf8' })
  if (gh.status === 0)
    cases.splice(1, 0, {
      name: 'gh auth token (GH_TOKEN set)',
      command: ['gh', 'auth', 'token'],
      env: { GH_TOKEN: 'ghp_bench', GH_CONFIG_DIR: path.join(work, 'gh') },
    })
  else console.error('gh not installed: its case is left out (apt-get install gh).')

  const results = measureInTurns(cases)
  const crowdResult = await crowd(50)
  const compileCache = await compileCacheBench(node24)
  const filesResult = await fileVsProcess(fileStore)

  const floor = results[0]!
  const ghMs = results.find((r) => r.name.startsWith('gh '))?.medianMs
  const floor24 = results.find((r) => r.name === `node -e 0 ${ON_24}`)
  const rows = results.map((r) => {
    const own = r.name.endsWith(ON_24) && floor24 ? floor24 : floor
    const vsNode = r.medianMs / own.medianMs
    const rssVsNode = r.peakRssKb && own.peakRssKb ? r.peakRssKb / own.peakRssKb : null
    return { ...r, vsNode, rssVsNode, goal: verdict(r.name, vsNode, rssVsNode, r.medianMs, ghMs) }
  })
  const pad = (text: string, width: number) => text.padEnd(width)
  console.log(
    `\n${RUNS} runs of each case, taken in turns, after ${WARMUP} warm-ups; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, NODE_EXTRA_CA_CERTS unset\n`,
  )
  console.log(
    `${pad('case', 36)}${pad('median', 10)}${pad('min–max', 16)}${pad('× node', 9)}${pad('peak RSS', 11)}${pad('× node RSS', 12)}goal`,
  )
  for (const r of rows) {
    console.log(
      `${pad(r.name, 36)}${pad(`${r.medianMs.toFixed(1)} ms`, 10)}${pad(`${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)} ms`, 16)}${pad(r.vsNode.toFixed(2), 9)}${pad(r.peakRssKb ? `${(r.peakRssKb / 1024).toFixed(1)} MiB` : '-', 11)}${pad(r.rssVsNode ? r.rssVsNode.toFixed(2) : '-', 12)}${r.goal}`,
    )
  }
  const crowdMet = crowdResult.refreshes === 1 && crowdResult.allSame && crowdResult.wallMs <= 3000
  console.log(
    `\n50 concurrent token on an expired token: ${crowdResult.refreshes} refresh request(s), all done in ${crowdResult.wallMs} ms, ${crowdResult.allSame ? 'all the same token' : 'DIFFERENT tokens'} — goal 1 refresh within 3 s: ${crowdMet ? 'met' : 'MISSED'}`,
  )
  printCompileCache(compileCache)
  printFileVsProcess(filesResult)
  fs.mkdirSync(path.join(root, '.bench'), { recursive: true })
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  }
  fs.writeFileSync(
    path.join(root, '.bench', 'results.json'),
    `${JSON.stringify({ machine, runs: RUNS, cases: rows, crowd: { ...crowdResult, goal: crowdMet ? 'met' : 'missed' }, compileCache, tokenFile: filesResult }, null, 2)}\n`,
  )
  console.log('\nwritten: .bench/results.json')
} finally {
  await keyring?.stop()
  await server.close()
  fs.rmSync(work, { recursive: true, force: true })
}

import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

import { ROOT } from '../support/cli.js'

// Nobody runs the macOS and Windows jobs here: what can be checked of the workflow without
// GitHub is checked here, against the files it must agree with.

// js-yaml comes with eslint; no dependency of our own for one test.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown }

interface Step {
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
}
interface Workflow {
  jobs: Record<string, { 'runs-on': string; strategy: { matrix: { os: string[]; node: number[] } }; steps: Step[] }>
}

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8')
const workflow = yaml.load(read('.github/workflows/ci.yml')) as Workflow
const job = workflow.jobs.test!

/** The lines of scripts/node-line.mjs: the keys of its PINNED table. */
function pinnedLines(): number[] {
  const table = /const PINNED = \{([^}]*)\}/.exec(read('scripts/node-line.mjs'))![1]!
  return [...table.matchAll(/(\d+):/g)].map((match) => Number(match[1]))
}

test('the matrix is ubuntu, macOS and Windows, each on every Node line', () => {
  expect(job.strategy.matrix.os).toEqual(['ubuntu-latest', 'macos-latest', 'windows-latest'])
  expect(job['runs-on']).toBe('${{ matrix.os }}')
  const setupNode = job.steps.find((step) => step.uses?.startsWith('actions/setup-node@'))
  expect(setupNode?.with?.['node-version']).toBe('${{ matrix.node }}')
})

test('the Node lines are the oldest engines allows and those of scripts/node-line.mjs and .ci/run', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node
  const oldest = Number(/^\^?(\d+)\./.exec(engines)![1])
  const ciRun = read('.ci/run')
  const ciRunLines = /^for entry in (.*); do$/m
    .exec(ciRun)![1]!
    .split(' ')
    .map((entry) => Number(entry.split(':')[0]))
  expect(ciRunLines).toEqual(pinnedLines())
  expect(job.strategy.matrix.node).toEqual([oldest, ...pinnedLines()])
  expect(job.strategy.matrix.node).toEqual([20, 22, 24, 26])
})

test('on Linux the job installs what .ci/run installs, then runs npm ci and npm test', () => {
  const packages = (text: string) =>
    /apt-get install((?:[^\n\\]|\\\n)*)/
      .exec(text)![1]!
      .split(/[\s\\]+/)
      .filter((word) => word && !word.startsWith('-') && !word.startsWith('>'))
  const linux = job.steps.find((step) => step.run?.includes('apt-get install'))!
  expect(linux.if).toBe("runner.os == 'Linux'")
  expect(packages(linux.run!).sort()).toEqual(packages(read('.ci/run')).sort())
  const runs = job.steps.map((step) => step.run?.trim())
  expect(runs.indexOf('npm ci --no-audit --no-fund')).toBeGreaterThan(runs.indexOf(linux.run!.trim()))
  expect(runs.at(-1)).toBe('npm test')
})

test('npm scripts use no POSIX-only command, so that they run on Windows too', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
  const posixOnly = /(^|&&|\|\||;|\|)\s*(rm|cp|mv|mkdir|cat|export|touch|ln|chmod|test|\[)\s|\$\{?[A-Za-z_]|`/
  for (const [name, script] of Object.entries(scripts)) {
    expect({ name, posixOnly: posixOnly.test(script) }).toEqual({ name, posixOnly: false })
  }
})

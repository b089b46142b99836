/**
 * Every citation in the code, the tests and the docs resolves inside the repo: a reference of
 * the form docs/<file>.md#<anchor> names a file that exists and a heading of it whose GitHub
 * anchor is <anchor>; and nothing cites a document the repo does not hold (the old contract's
 * section numbers, or a tracker's issue numbers).
 */
import fs from 'node:fs'
import path from 'node:path'
import { ROOT } from '../support/cli.js'

/** Where citations live: code, scripts, tests, and the repo's own Markdown. */
const SOURCE_DIRS = ['src', 'test', 'scripts', 'bin']
const SOURCE_EXTENSIONS = new Set(['.ts', '.js', '.cjs', '.mjs', '.md'])

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(full)
    return entry.isFile() && SOURCE_EXTENSIONS.has(path.extname(entry.name)) ? [full] : []
  })
}

function markdownFiles(): string[] {
  const top = fs
    .readdirSync(ROOT)
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join(ROOT, name))
  const docs = path.join(ROOT, 'docs')
  const inDocs = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .map((name) => path.join(docs, name))
    : []
  return [...top, ...inDocs]
}

const scanned = (): string[] => [...SOURCE_DIRS.flatMap((dir) => walk(path.join(ROOT, dir))), ...markdownFiles()]

/** GitHub's anchor for a heading: lower-case, only letters, digits, spaces, hyphens and underscores kept, spaces → hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

/** The anchors of a Markdown text's headings (ATX headings outside fenced code). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading) anchors.add(slug(heading[1]!))
  }
  return anchors
}

const LINK = /\bdocs\/([\w.-]+?\.md)#([\w-]+)/g

/** `file:line: <the reference> (why)` for each docs/ reference whose file or heading is missing. */
function brokenLinks(
  files: Array<{ name: string; text: string }>,
  readDoc: (file: string) => string | undefined,
): string[] {
  const broken: string[] = []
  for (const { name, text } of files) {
    text.split('\n').forEach((line, i) => {
      for (const [ref, file, anchor] of line.matchAll(LINK)) {
        const doc = readDoc(file!)
        const why = doc === undefined ? 'no such file' : anchorsOf(doc).has(anchor!) ? undefined : 'no such heading'
        if (why) broken.push(`${name}:${i + 1}: ${ref} (${why})`)
      }
    })
  }
  return broken
}

// Built from parts so that this file does not cite anything itself.
const FORBIDDEN = [new RegExp('SPEC' + ' §'), new RegExp('\\bis' + 'sue \\d+\\b', 'i')]

function read(file: string): { name: string; text: string } {
  return { name: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }
}

function readRepoDoc(file: string): string | undefined {
  const full = path.join(ROOT, 'docs', file)
  return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined
}

describe('citations resolve inside the repo', () => {
  test('every docs/<file>.md#<anchor> names an existing file and heading', () => {
    expect(brokenLinks(scanned().map(read), readRepoDoc)).toEqual([])
  })

  test('nothing cites a document the repo does not hold', () => {
    const found: string[] = []
    for (const { name, text } of scanned().map(read)) {
      text.split('\n').forEach((line, i) => {
        if (FORBIDDEN.some((pattern) => pattern.test(line))) found.push(`${name}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(found).toEqual([])
  })
})

describe('the link checker itself', () => {
  test('GitHub anchors', () => {
    expect(slug('OAuth 2.0 and OpenID Connect')).toBe('oauth-20-and-openid-connect')
    expect(slug('`git` and curl')).toBe('git-and-curl')
    expect(slug('Whom tokenctl trusts')).toBe('whom-tokenctl-trusts')
  })

  test('a missing heading or file is reported; headings inside code fences do not count', () => {
    const doc = '# Design\n\n## Transport\n\n```\n## Not a heading\n```\n'
    const docs = 'docs' + '/' // in parts, so that the scan above does not see these links
    const files = [
      { name: 'a.ts', text: `// ${docs}d.md#transport\n// ${docs}d.md#not-a-heading\n// ${docs}e.md#transport\n` },
    ]
    expect(brokenLinks(files, (file) => (file === 'd.md' ? doc : undefined))).toEqual([
      `a.ts:2: ${docs}d.md#not-a-heading (no such heading)`,
      `a.ts:3: ${docs}e.md#transport (no such file)`,
    ])
  })
})

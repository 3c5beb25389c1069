import { readdirSync } from 'node:fs'
import { basename } from 'node:path'

// node:fs as Node 22 has it, for the MCP conformance package on Node 20 (why: hooks.ts): everything of node:fs,
// and globSync. The package calls globSync once, as globSync('**/checks.json', { cwd }) to gather the results of a
// run (its tier-check command); the authorization scenarios never call it. So this implements the pattern shapes
// that call needs, as Node 22 answers them (paths relative to cwd, `**/` matching zero or more folders), and
// refuses any other pattern loudly rather than answer it wrongly.
// All of node:fs as it is, deprecated members too: the package may import any of them.
// eslint-disable-next-line n/no-deprecated-api
export * from 'node:fs'
export { default } from 'node:fs'

export function globSync (pattern: string | string[], options: { cwd?: string } = {}): string[] {
  const patterns = Array.isArray(pattern) ? pattern : [pattern]
  const cwd = options.cwd ?? process.cwd()
  const found = new Set<string>()
  for (const one of patterns) {
    const name = /^\*\*\/([^*?[\]{}/\\]+)$/.exec(one)?.[1]
    if (name === undefined) throw new Error(`globSync shim (test/support/node20-fs): unsupported pattern ${one}`)
    for (const path of readdirSync(cwd, { recursive: true, encoding: 'utf8' })) {
      if (basename(path) === name) found.add(path)
    }
  }
  return [...found]
}

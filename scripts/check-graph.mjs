#!/usr/bin/env node
// `npm run lint:graph`: the import graph of the TypeScript sources has no cycle, type-only imports included (a
// cycle through an `import type` still says that one file holds two things). The layers (which folder may import
// which) are eslint.config.js's no-restricted-imports rules; this is the other half of the guard.
// Usage: node scripts/check-graph.mjs [root]   (the repository by default; test/lint/import-graph.test.ts plants a cycle
// in a copy to show it fails).
import madge from 'madge'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export async function importCycles (root) {
  const tsConfig = join(root, 'tsconfig.json')
  const graph = await madge(root, {
    fileExtensions: ['ts'],
    tsConfig: existsSync(tsConfig) ? tsConfig : undefined,
    excludeRegExp: [/^node_modules\//, /^dist\//, /^bench\//, /\.d\.ts$/],
    detectiveOptions: { ts: { skipTypeImports: false } }
  })
  return graph.circular()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..'))
  const cycles = await importCycles(root)
  if (cycles.length === 0) {
    console.log('import graph: no cycles')
  } else {
    console.error(`import graph: ${cycles.length} cycle(s); move what both files need into a file of its own (a leaf):`)
    for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].join(' -> ')}`)
    process.exit(1)
  }
}

// The import-graph guard of `npm run lint` can fail: a cycle planted in a copy of the sources is found by
// scripts/check-graph.mjs, and an upward import is refused by eslint.config.js's layer rules.
import t from 'tap'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ESLint } from 'eslint'
import { PROJECT_ROOT } from '../../lib/paths.js'

const { importCycles } = await import(pathToFileURL(join(PROJECT_ROOT, 'scripts', 'check-graph.mjs')).href) as { importCycles: (root: string) => Promise<string[][]> }

t.test('the sources have no import cycle; one planted in a copy is found', async (t) => {
  t.same(await importCycles(PROJECT_ROOT), [], 'no cycle today')
  const copy = mkdtempSync(join(tmpdir(), 'gatehouse-graph-'))
  t.teardown(() => rmSync(copy, { recursive: true, force: true }))
  for (const dir of ['lib', 'schemas']) cpSync(join(PROJECT_ROOT, dir), join(copy, dir), { recursive: true })
  cpSync(join(PROJECT_ROOT, 'tsconfig.json'), join(copy, 'tsconfig.json'))
  // A type-only arrow back from the clock (imported nearly everywhere) to the config closes a circle.
  writeFileSync(join(copy, 'lib', 'clock.ts'), "import type { Config } from './config.js'\nexport type Planted = Config\n", { flag: 'a' })
  const cycles = await importCycles(copy)
  t.ok(cycles.some((c) => c.includes('lib/clock.ts') && c.includes('lib/config.ts')), `found: ${JSON.stringify(cycles)}`)
})

t.test('the layer rules refuse an arrow back up', async (t) => {
  const eslint = new ESLint({ cwd: PROJECT_ROOT })
  const refused = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(PROJECT_ROOT, filePath) })
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').length
  }
  t.equal(await refused('lib/oauth/planted.ts', "import '../../plugins/config.js'\n"), 1, 'lib/ → plugins/')
  t.equal(await refused('lib/oauth/planted.ts', "import '../../routes/token/index.js'\n"), 1, 'lib/ → routes/')
  t.equal(await refused('lib/stores/planted.ts', "import '../oauth/revocation.js'\n"), 1, 'lib/stores/ → lib/oauth/')
  t.equal(await refused('lib/stores/planted.ts', "import '../admin/users.js'\n"), 1, 'lib/stores/ → lib/admin/')
  t.equal(await refused('schemas/planted.ts', "import '../lib/errors.js'\n"), 1, 'schemas/ → lib/')
  t.equal(await refused('plugins/planted.ts', "import '../routes/token/index.js'\n"), 1, 'plugins/ → routes/')
  t.equal(await refused('lib/limits/planted.ts', "import '../oauth/brute-force.js'\n"), 1, 'lib/limits/ → lib/oauth/')
  t.equal(await refused('resource-server/planted.ts', "import '../lib/oauth/access-tokens.js'\n"), 1, 'resource-server/ → the access-token signer')
  t.equal(await refused('resource-server/planted.ts', "import '../plugins/authenticate.js'\n"), 1, 'resource-server/ → plugins/')
  t.equal(await refused('resource-server/planted.ts', "import '../lib/oauth/access-token-rules.js'\n"), 0, 'resource-server/ → the rules leaf is fine')
  t.equal(await refused('lib/oauth/planted.ts', "import '../stores/deny-list.js'\n"), 0, 'a downward arrow is fine')
})

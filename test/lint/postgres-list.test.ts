// test/postgres/list.ts stays true: every test file whose database follows the test backend runs on PostgreSQL
// too, or says why not;
// and the wrappers npm test runs are the ones the list asks for.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { PROJECT_ROOT } from '../../lib/paths.js'
import { onceOnly, onPostgresToo } from '../postgres/list.js'

const TEST = join(PROJECT_ROOT, 'test')

/** What one source file imports (local name → [module path relative to test/, imported name]), exports and calls. */
interface Facts {
  imports: Map<string, [string, string]>
  exported: Map<string, string> // exported name → local name (a re-export names its module's export)
  calls: Array<{ callee: string, within: string | undefined }> // `within`: the top-level function or const that holds the call
}

function factsOf (path: string, text: string): Facts {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true)
  const facts: Facts = { imports: new Map(), exported: new Map(), calls: [] }
  const moduleOf = (specifier: string) => relative(TEST, resolve(dirname(join(TEST, path)), specifier)).replace(/\.js$/, '.ts')
  const isExported = (node: ts.Node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith('.')) {
      const bindings = statement.importClause?.isTypeOnly ? undefined : statement.importClause?.namedBindings
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          if (!element.isTypeOnly) facts.imports.set(element.name.text, [moduleOf(statement.moduleSpecifier.text), (element.propertyName ?? element.name).text])
        }
      }
    } else if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) {
        const local = (element.propertyName ?? element.name).text
        if (statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) && statement.moduleSpecifier.text.startsWith('.')) {
          facts.imports.set(`reexport:${element.name.text}`, [moduleOf(statement.moduleSpecifier.text), local])
          facts.exported.set(element.name.text, `reexport:${element.name.text}`)
        } else facts.exported.set(element.name.text, local)
      }
    } else if (ts.isFunctionDeclaration(statement) && statement.name && isExported(statement)) {
      facts.exported.set(statement.name.text, statement.name.text)
    } else if (ts.isVariableStatement(statement) && isExported(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) facts.exported.set(d.name.text, d.name.text)
    }
  }
  const visit = (node: ts.Node, within: string | undefined): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) facts.calls.push({ callee: node.expression.text, within })
    ts.forEachChild(node, (child) => visit(child, within))
  }
  for (const statement of source.statements) {
    let within: string | undefined
    if (ts.isFunctionDeclaration(statement) && statement.name) within = statement.name.text
    else if (ts.isVariableStatement(statement)) {
      const [d] = statement.declarationList.declarations
      if (d && ts.isIdentifier(d.name)) within = d.name.text
    }
    visit(statement, within)
  }
  return facts
}

/**
 * The test files (paths relative to test/) whose database follows GATEHOUSE_TEST_BACKEND: they call a function of
 * test/support/helper.ts that reaches `freshDatabase` (`build`, `buildListening`, `sharedDatabaseUrl`), or a
 * function of another module that does (`buildLogged`, `accessTokenFixture`…), however deep.
 */
export function appLevelFiles (files: Map<string, string>): Set<string> {
  const facts = new Map([...files].map(([path, text]) => [path, factsOf(path, text)]))
  const builders = new Map<string, Set<string>>([['support/helper.ts', new Set(['freshDatabase'])]])
  /** The names that build an app inside one module: imported builders, then its own functions that call one. */
  const localBuilders = (path: string): Set<string> => {
    const f = facts.get(path)!
    const local = new Set([...f.imports].filter(([, [from, name]]) => builders.get(from)?.has(name)).map(([local]) => local))
    for (const name of builders.get(path) ?? []) local.add(name)
    for (let grew = true; grew;) {
      grew = false
      for (const { callee, within } of f.calls) {
        if (within !== undefined && local.has(callee) && !local.has(within)) { local.add(within); grew = true }
      }
    }
    return local
  }
  for (let grew = true; grew;) {
    grew = false
    for (const path of facts.keys()) {
      if (path.endsWith('.test.ts')) continue
      const local = localBuilders(path)
      const exported = builders.get(path) ?? new Set<string>()
      for (const [name, localName] of facts.get(path)!.exported) {
        if (local.has(localName) && !exported.has(name)) { exported.add(name); grew = true }
      }
      builders.set(path, exported)
    }
  }
  return new Set([...facts.keys()].filter((path) => {
    if (!path.endsWith('.test.ts')) return false
    const local = localBuilders(path)
    return facts.get(path)!.calls.some(({ callee }) => local.has(callee))
  }))
}

function sources (): Map<string, string> {
  const files = new Map<string, string>()
  for (const entry of readdirSync(TEST, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue
    const path = relative(TEST, join(entry.parentPath, entry.name))
    if (path.startsWith('fixtures/')) continue
    files.set(path, readFileSync(join(TEST, path), 'utf8'))
  }
  return files
}

t.test('the detector finds a test that builds the app, however indirectly, and nothing else', async (t) => {
  const helper = readFileSync(join(TEST, 'support', 'helper.ts'), 'utf8')
  const found = appLevelFiles(new Map([
    ['support/helper.ts', helper],
    ['support/own.ts', "import { freshDatabase } from './helper.js'\nexport async function own (t: any) { return freshDatabase(t) }\n"],
    ['support/deep.ts', "import { build } from './helper.js'\nconst inner = (t: any) => build(t)\nexport async function outer (t: any) { return inner(t) }\nexport { outer as renamed }\n"],
    ['support/again.ts', "export { renamed } from './deep.js'\nexport function unrelated () { return 1 }\n"],
    ['a/direct.test.ts', "import { build } from '../support/helper.js'\nawait build(t)\n"],
    ['a/listening.test.ts', "import { buildListening as listen } from '../support/helper.js'\nawait listen(t)\n"],
    ['a/indirect.test.ts', "import { renamed } from '../support/again.js'\nawait renamed(t)\n"],
    ['a/type-only.test.ts', "import type { build } from '../support/helper.js'\nexport type B = typeof build\n"],
    ['a/unrelated.test.ts', "import { unrelated } from '../support/again.js'\nunrelated()\nconst build = () => 1\nbuild()\n"],
    ['a/not-called.test.ts', "import { form } from '../support/helper.js'\nform({})\n"],
    ['a/shared.test.ts', "import { sharedDatabaseUrl } from '../support/helper.js'\nawait sharedDatabaseUrl(t)\n"],
    ['a/own.test.ts', "import { own } from '../support/own.js'\nawait own(t)\n"]
  ]))
  t.same([...found].sort(), ['a/direct.test.ts', 'a/indirect.test.ts', 'a/listening.test.ts', 'a/own.test.ts', 'a/shared.test.ts'])
})

t.test('every test file that builds the app runs on PostgreSQL too, or says why not', async (t) => {
  const all = sources()
  const appLevel = appLevelFiles(all)
  t.ok(appLevel.size > 40, `${appLevel.size} app-level test files found`)
  const listed = new Set(onPostgresToo)
  t.equal(listed.size, onPostgresToo.length, 'onPostgresToo names each file once')
  for (const file of appLevel) {
    t.ok(listed.has(file) || file in onceOnly, `${file} builds the app: add it to onPostgresToo in test/postgres/list.ts (or to onceOnly, with the reason)`)
  }
  for (const file of [...listed, ...Object.keys(onceOnly)]) {
    t.ok(appLevel.has(file), `${file} in test/postgres/list.ts is a test file that builds the app`)
    t.notOk(listed.has(file) && file in onceOnly, `${file} is in one list only`)
  }
  for (const [file, reason] of Object.entries(onceOnly)) t.ok(reason.length > 20, `${file}: the reason says why`)
})

t.test('dist/test/postgres/ holds exactly the wrappers the list asks for (npm test, npm run build:test)', async (t) => {
  const { postgresWrappers } = await import(pathToFileURL(join(PROJECT_ROOT, 'scripts', 'prepare-tests.mjs')).href) as { postgresWrappers: () => Promise<Map<string, string>> }
  const expected = await postgresWrappers()
  t.equal(expected.size, onPostgresToo.length)
  const dir = join(PROJECT_ROOT, 'dist', 'test', 'postgres')
  const present = existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.test.js')).map((e) => relative(PROJECT_ROOT, join(e.parentPath, e.name)))
    : []
  t.same(present.sort(), [...expected.keys()].sort(), 'no wrapper missing, none stale (run node scripts/prepare-tests.mjs after tsc)')
  for (const [path, text] of expected) {
    if (existsSync(join(PROJECT_ROOT, path))) t.equal(readFileSync(join(PROJECT_ROOT, path), 'utf8'), text, `${path} is current`)
  }
})

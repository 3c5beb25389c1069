// test/security/README.md's index (series → file → tests) stays true: a newcomer who follows it finds the tests.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { PROJECT_ROOT } from '../../lib/paths.js'

const SECURITY = join(PROJECT_ROOT, 'test', 'security')
const README = readFileSync(join(SECURITY, 'README.md'), 'utf8')
/** The series SECURITY-CASES lists for features that exist (Q but Q3, D but D1–D4, G and K wait for theirs: PENDING.md). */
const BUILT = ['J', 'T', 'P', 'CC', 'R', 'A', 'C', 'V', 'I', 'B', 'M', 'L', 'F', 'U', 'X1', 'X2', 'X3', 'X4', 'X5', 'X6', 'X7', 'Q', 'Q3', 'Q4', 'D3', 'D4', 'K1', 'K2', 'K3']

interface Row { series: string, cases: string[], files: string[], quoted: string[] }

function indexRows (): Row[] {
  const section = README.slice(README.indexOf('## Where each series is'))
  const table = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| series') && !line.startsWith('|---'))
  return table.map((line) => {
    const [series = '', , cases = '', files = '', tests = ''] = line.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, '').trim())
    return {
      series,
      cases: expand(cases),
      files: [...files.matchAll(/`([^`]+\.test\.ts)`/g)].map((m) => m[1]!),
      quoted: [...tests.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
    }
  })
}

/** "J1–J9" → J1 … J9; "CC1" → CC1; "—" → none. */
function expand (cases: string): string[] {
  const range = /^([A-Z]+)(\d+)–[A-Z]+(\d+)$/.exec(cases)
  if (range) return Array.from({ length: Number(range[3]) - Number(range[2]) + 1 }, (_, i) => `${range[1]}${Number(range[2]) + i}`)
  return /^[A-Z]+\d+$/.test(cases) ? [cases] : []
}

/** Does a test in `text` carry this title: `t.test('<id>: …` or `t.test('<id> (…`? */
const titled = (text: string, id: string) => new RegExp(`t\\.test\\(\\s*['"\`]${id}[:( ]`).test(text)

t.test('the index names every series built so far', async (t) => {
  const series = indexRows().map((row) => row.series)
  for (const s of BUILT) t.ok(series.includes(s), `series ${s} is in the index`)
})

t.test('every file the index names exists; every case has a test named after it, or every quoted test name is there', async (t) => {
  for (const row of indexRows()) {
    t.ok(row.files.length > 0, `${row.series}: names a file`)
    const texts = row.files.map((file) => {
      const path = resolve(SECURITY, file)
      t.ok(existsSync(path), `${row.series}: ${file} exists`)
      return existsSync(path) ? readFileSync(path, 'utf8') : ''
    })
    if (row.quoted.length > 0) {
      for (const name of row.quoted) t.ok(texts.some((text) => text.includes(name)), `${row.series}: "${name}" is in ${row.files.join(' or ')}`)
    } else {
      for (const id of row.cases) t.ok(texts.some((text) => titled(text, id)), `${row.series}: a test titled ${id} in ${row.files.join(' or ')}`)
    }
  }
})

t.test('every test file of test/security/ is in the index', async (t) => {
  const named = new Set(indexRows().flatMap((row) => row.files))
  for (const file of readdirSync(SECURITY).filter((f) => f.endsWith('.test.ts'))) t.ok(named.has(file), `${file} is in README.md's index`)
})

t.test('the checks can fail: an id without a test and a range are read as meant', async (t) => {
  t.same(expand('J1–J3'), ['J1', 'J2', 'J3'])
  t.same(expand('—'), [])
  t.ok(titled("t.test('J6 (ID token part): x'", 'J6'))
  t.notOk(titled("t.test('J10: x'", 'J1'), 'J1 is not J10')
})

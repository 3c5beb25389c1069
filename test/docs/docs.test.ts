import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigSchema } from '../../lib/config.js'
import { PROJECT_ROOT } from '../../lib/paths.js'
import { build } from '../support/helper.js'
import { parseExposition } from '../support/prometheus.js'

/** The README is the reference a clone has (no documents outside the repository): it must stay true. */
const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
const section = (title: string): string => {
  const start = README.indexOf(`\n## ${title}\n`)
  if (start < 0) return ''
  const end = README.indexOf('\n## ', start + 4)
  return README.slice(start, end < 0 ? undefined : end)
}

t.test('every environment variable the server reads is in the README\'s Configuration table', async (t) => {
  const table = section('Configuration')
  t.ok(table.length > 0, 'the README has a Configuration section')
  for (const schema of Object.values(ConfigSchema.properties) as unknown as Array<{ env: string }>) {
    t.match(table, new RegExp(`\`${schema.env}\``), `${schema.env} is documented`)
  }
})

t.test('every metric /metrics serves is in the README\'s Logs and metrics table', async (t) => {
  const app = await build(t)
  const names = [...parseExposition((await app.inject({ url: '/metrics' })).body).types.keys()]
  t.ok(names.length >= 10, `${names.length} metrics`)
  const table = section('Logs and metrics')
  for (const name of names) t.match(table, new RegExp(`\`${name}\``), `${name} is documented`)
})

t.test('the README stands alone: no links outside the repository, every CLI command group documented', async (t) => {
  t.notMatch(README, /\]\(\.\.\//, 'no relative link leaving the repository')
  t.notMatch(README, /\.\.\/shared|\/work\//, 'no path of a planning workspace')
  const cli = section('Command line')
  for (const group of ['users add', 'users disable', 'users import', 'users export', 'clients add', 'clients remove', 'providers add', 'providers list', 'providers remove', 'keys rotate', 'openapi', '--help', '--version']) {
    t.match(cli, group, `${group} is in the Command line section`)
  }
})

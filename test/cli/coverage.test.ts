import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { COMMAND_GROUPS } from '../../cli/commands.js'
import { REPO_ROOT } from '../support/paths.js'

// The CLI is as complete as the admin API (issue 29): every admin operation in the committed openapi.yaml (which
// test/contract/openapi.test.ts keeps equal to the route schemas) is named by a command's `operations` (cli/<group>.ts),
// the table docs/cli.md prints. No app is built: this reads the document and the command table.

/**
 * Admin operations with no command, each with the reason. Empty today: every admin operation has one. An entry here
 * must say why a command would be wrong (not merely missing), e.g. an operation that only makes sense over HTTP.
 */
const WITHOUT_COMMAND: Readonly<Record<string, string>> = {}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

type Operation = { operationId?: string, tags?: string[] }

/** Every operation of the admin API: tagged `admin`, or under /admin/ (so an untagged new route counts too). */
function adminOperations (): Map<string, string> {
  const doc = parse(readFileSync(join(REPO_ROOT, 'openapi.yaml'), 'utf8')) as { paths: Record<string, Partial<Record<string, Operation>>> }
  const found = new Map<string, string>()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op === undefined || !(op.tags?.includes('admin') === true || path.startsWith('/admin/'))) continue
      found.set(op.operationId ?? `${method.toUpperCase()} ${path} (no operationId)`, `${method.toUpperCase()} ${path}`)
    }
  }
  return found
}

/** operationId → the commands that name it. */
function commandsByOperation (): Map<string, string[]> {
  const table = new Map<string, string[]>()
  for (const group of COMMAND_GROUPS) {
    for (const command of group.commands) {
      for (const operation of command.operations ?? []) {
        const name = ['gatehouse', group.name, command.name].filter((w) => w !== undefined).join(' ')
        table.set(operation, [...(table.get(operation) ?? []), name])
      }
    }
  }
  return table
}

t.test('every admin API operation has a command (or a reason in WITHOUT_COMMAND)', async (t) => {
  const operations = adminOperations()
  t.ok(operations.size >= 39, `the admin API was read (${operations.size} operations)`)
  const table = commandsByOperation()
  for (const [id, route] of operations) {
    if (id in WITHOUT_COMMAND) {
      t.notOk(table.has(id), `${id} is listed without a command, yet ${table.get(id)?.join(', ')} names it: drop it from WITHOUT_COMMAND`)
      t.ok((WITHOUT_COMMAND[id] ?? '').length > 20, `${id}: a reason`)
      continue
    }
    t.ok(table.has(id), `${route} (${id}): a command names it in its operations (cli/<group>.ts), or WITHOUT_COMMAND says why not`)
  }
})

t.test('every operation a command names is an admin API operation (no typo, no stale name)', async (t) => {
  const operations = adminOperations()
  for (const [id, commands] of commandsByOperation()) {
    t.ok(operations.has(id), `${commands.join(', ')}: ${id} is an operationId of the admin API`)
  }
  for (const id of Object.keys(WITHOUT_COMMAND)) t.ok(operations.has(id), `WITHOUT_COMMAND: ${id} is an admin operation`)
})

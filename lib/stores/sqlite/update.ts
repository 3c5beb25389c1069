import type Database from 'better-sqlite3'

type Row = Record<string, unknown>

/**
 * `UPDATE table SET <columns>, updated_at = ? WHERE key = ? RETURNING *` for the columns a patch names
 * (rows.ts builds them, in a fixed order, for both backends), plus `increment = increment + 1` when named
 * (the credential version). Booleans become 0/1. The statements are
 * cached by their text: a patch names one of a few column sets.
 */
export function updateRow (db: Database.Database, table: 'users' | 'clients' | 'upstream_providers', key: [string, string], columns: Array<[string, unknown]>, now: number, increment?: string): Row | undefined {
  const sets = columns.map(([name]) => `${name} = ?`).concat(increment ? [`${increment} = ${increment} + 1`] : []).concat('updated_at = ?').join(', ')
  const values = columns.map(([, v]) => typeof v === 'boolean' ? Number(v) : v)
  return prepared(db, `UPDATE ${table} SET ${sets} WHERE ${key[0]} = ? RETURNING *`).get(...values, now, key[1]) as Row | undefined
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>()

function prepared (db: Database.Database, sql: string): Database.Statement {
  let byText = statements.get(db)
  if (!byText) statements.set(db, byText = new Map())
  let statement = byText.get(sql)
  if (!statement) byText.set(sql, statement = db.prepare(sql))
  return statement
}

import type { Queryable, Row } from './db.js'

/**
 * `UPDATE table SET <columns>, updated_at = $n WHERE key = $m RETURNING *` for the columns a patch names
 * (rows.ts builds them, in a fixed order, for both backends), plus `increment = increment + 1` when named
 * (the credential version).
 */
export async function updateRow (db: Queryable, table: 'users' | 'clients' | 'upstream_providers', key: [string, string], columns: Array<[string, unknown]>, now: number, increment?: string): Promise<Row | undefined> {
  const sets = columns.map(([name], i) => `${name} = $${i + 1}`).concat(increment ? [`${increment} = ${increment} + 1`] : []).concat(`updated_at = $${columns.length + 1}`).join(', ')
  const { rows } = await db.query({
    text: `UPDATE ${table} SET ${sets} WHERE ${key[0]} = $${columns.length + 2} RETURNING *`,
    values: [...columns.map(([, v]) => v), now, key[1]]
  })
  return rows[0]
}

import { GROWING_TABLES, type GrowingTable, type HousekeepingStore } from '../types.js'
import type { Db } from './db.js'
import { hasNul } from './nul.js'

export class PostgresHousekeepingStore implements HousekeepingStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async claim (job: string, now: number, everySeconds: number): Promise<boolean> {
    if (hasNul(job)) return false
    // One statement: of two instances at once, the second waits for the first's row lock, then re-checks the
    // condition against the row the first wrote (READ COMMITTED) and updates nothing.
    const { rowCount } = await this.#db.query({
      name: 'gh_housekeeping_claim',
      text: `INSERT INTO housekeeping (job, ran_at) VALUES ($1, $2)
        ON CONFLICT (job) DO UPDATE SET ran_at = excluded.ran_at WHERE housekeeping.ran_at <= $3`,
      values: [job, now, now - everySeconds]
    })
    return (rowCount ?? 0) > 0
  }

  async tableRows (): Promise<Record<GrowingTable, number>> {
    const { rows } = await this.#db.query({
      name: 'gh_housekeeping_count',
      text: `SELECT ${GROWING_TABLES.map((table) => `(SELECT COUNT(*) FROM ${table}) AS ${table}`).join(', ')}`
    })
    const row = rows[0] ?? {}
    return Object.fromEntries(GROWING_TABLES.map((table) => [table, Number(row[table])])) as Record<GrowingTable, number>
  }
}

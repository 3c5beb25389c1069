import type Database from 'better-sqlite3'
import { GROWING_TABLES, type GrowingTable, type HousekeepingStore } from '../types.js'

export class SqliteHousekeepingStore implements HousekeepingStore {
  readonly #claim: Database.Statement
  readonly #count: Database.Statement

  constructor (db: Database.Database) {
    // One statement: SQLite serialises writers, so of two instances on one file exactly one updates the row.
    this.#claim = db.prepare(`INSERT INTO housekeeping (job, ran_at) VALUES (?, ?)
      ON CONFLICT (job) DO UPDATE SET ran_at = excluded.ran_at WHERE housekeeping.ran_at <= ?`)
    this.#count = db.prepare(`SELECT ${GROWING_TABLES.map((table) => `(SELECT COUNT(*) FROM ${table}) AS ${table}`).join(', ')}`)
  }

  async claim (job: string, now: number, everySeconds: number): Promise<boolean> {
    return this.#claim.run(job, now, now - everySeconds).changes > 0
  }

  async tableRows (): Promise<Record<GrowingTable, number>> {
    const row = this.#count.get() as Record<string, unknown>
    return Object.fromEntries(GROWING_TABLES.map((table) => [table, Number(row[table])])) as Record<GrowingTable, number>
  }
}

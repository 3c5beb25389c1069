import type Database from 'better-sqlite3'
import type { NewSecurityEvent, SecurityEventFilter, SecurityEventStore, StoredSecurityEvent } from '../types.js'
import { toStoredSecurityEvent } from '../rows.js'

/**
 * Security events (security_events): a batch is one transaction, so its ids follow its order (AUTOINCREMENT: an id
 * is never reused, even after the newest rows were purged). Lists read the filter's index backwards by id.
 */
export class SqliteSecurityEventStore implements SecurityEventStore {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #purge: Database.Statement
  /** One statement per shape of filter (which filters are given; how many user values). */
  readonly #lists = new Map<string, Database.Statement>()

  constructor (db: Database.Database) {
    this.#db = db
    this.#insert = db.prepare(`INSERT INTO security_events (at, type, user, client_id, actor, target, ip, details)
      VALUES (@at, @type, @user, @clientId, @actor, @target, @ip, @details)`)
    this.#purge = db.prepare(`DELETE FROM security_events WHERE at < ?
      OR id <= (SELECT id FROM security_events ORDER BY id DESC LIMIT 1 OFFSET ?)`)
  }

  async append (events: NewSecurityEvent[]): Promise<void> {
    if (events.length === 0) return
    this.#db.transaction(() => {
      for (const event of events) this.#insert.run({ ...event, details: JSON.stringify(event.details) })
    })()
  }

  async list (filter: SecurityEventFilter): Promise<StoredSecurityEvent[]> {
    const where: string[] = []
    const values: unknown[] = []
    if (filter.type !== undefined) { where.push('type = ?'); values.push(filter.type) }
    if (filter.users !== undefined) {
      const byUser = filter.users.length === 0 ? '0' : `user IN (${filter.users.map(() => '?').join(', ')})`
      where.push(filter.orTarget === undefined ? byUser : `(${byUser} OR target = ?)`)
      values.push(...filter.users)
      if (filter.orTarget !== undefined) values.push(filter.orTarget)
    }
    if (filter.clientId !== undefined) { where.push('client_id = ?'); values.push(filter.clientId) }
    if (filter.before !== undefined) { where.push('id < ?'); values.push(filter.before) }
    const sql = `SELECT * FROM security_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    let statement = this.#lists.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#lists.set(sql, statement)
    }
    return (statement.all(...values, filter.limit) as Array<Record<string, unknown>>).map(toStoredSecurityEvent)
  }

  async purge (before: number, keep: number): Promise<number> {
    return this.#purge.run(before, keep).changes
  }
}

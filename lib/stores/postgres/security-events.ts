import type { NewSecurityEvent, SecurityEventFilter, SecurityEventStore, StoredSecurityEvent } from '../types.js'
import { toStoredSecurityEvent } from '../rows.js'
import type { Db } from './db.js'
import { hasNul } from './nul.js'

/** Text as PostgreSQL can hold it (no U+0000, which text and jsonb refuse): an event is stored, never its batch failed. */
const noNul = (value: string | null): string | null => value === null ? null : value.replaceAll('\u0000', '')

/**
 * Security events (security_events): a batch is one INSERT from arrays (unnest keeps their order, so ids follow the
 * batch's order). An identity is handed out at insert, not at commit: two instances' batches at once may commit out of
 * id order, so a page read in that instant can miss the other's rows; they appear on the next read.
 */
export class PostgresSecurityEventStore implements SecurityEventStore {
  readonly #db: Db
  constructor (db: Db) { this.#db = db }

  async append (events: NewSecurityEvent[]): Promise<void> {
    if (events.length === 0) return
    const column = <T>(pick: (e: NewSecurityEvent) => T): T[] => events.map(pick)
    await this.#db.query({
      name: 'gh_security_events_append',
      text: `INSERT INTO security_events (at, type, "user", client_id, actor, target, ip, details)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,
      values: [
        column((e) => e.at), column((e) => noNul(e.type)), column((e) => noNul(e.user)), column((e) => noNul(e.clientId)),
        column((e) => noNul(e.actor)), column((e) => noNul(e.target)), column((e) => noNul(e.ip)),
        // JSON.stringify writes U+0000 as the escape \u0000, which jsonb refuses too.
        column((e) => JSON.stringify(e.details).replaceAll('\\u0000', ''))
      ]
    })
  }

  async list (filter: SecurityEventFilter): Promise<StoredSecurityEvent[]> {
    // No row holds U+0000 here: a filter with one matches nothing.
    if (hasNul([filter.type, filter.users, filter.orTarget, filter.clientId])) return []
    const where: string[] = []
    const values: unknown[] = []
    const param = (value: unknown): string => { values.push(value); return `$${values.length}` }
    if (filter.type !== undefined) where.push(`type = ${param(filter.type)}`)
    if (filter.users !== undefined) {
      const byUser = `"user" = ANY(${param(filter.users)}::text[])`
      where.push(filter.orTarget === undefined ? byUser : `(${byUser} OR target = ${param(filter.orTarget)})`)
    }
    if (filter.clientId !== undefined) where.push(`client_id = ${param(filter.clientId)}`)
    if (filter.before !== undefined) where.push(`id < ${param(filter.before)}`)
    const { rows } = await this.#db.query({
      text: `SELECT * FROM security_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${param(filter.limit)}`,
      values
    })
    return rows.map(toStoredSecurityEvent)
  }

  async purge (before: number, keep: number): Promise<number> {
    const { rowCount } = await this.#db.query({
      name: 'gh_security_events_purge',
      text: `DELETE FROM security_events WHERE at < $1
        OR id <= (SELECT id FROM security_events ORDER BY id DESC LIMIT 1 OFFSET $2)`,
      values: [before, keep]
    })
    return rowCount ?? 0
  }
}

import type pg from 'pg'
import { StoreUnavailableError } from '../../errors.js'
import { isUnavailable, toStoreError } from './errors.js'

export type Row = Record<string, unknown>

/** The one row a statement that always returns one (INSERT … RETURNING) returned. */
export function onlyRow (rows: Row[]): Row {
  const [row] = rows
  if (row === undefined) throw new Error('the statement returned no row')
  return row
}

/**
 * LIMIT/OFFSET values with SQLite's meaning: there a negative LIMIT means "no limit" and a negative
 * OFFSET means 0, where PostgreSQL would reject the statement.
 */
export const pageValues = (page: { limit: number, offset: number }): [number | null, number] =>
  [page.limit < 0 ? null : page.limit, Math.max(0, page.offset)]

/** What a store runs a statement on: the pool (one-shot) or a transaction's client. */
export interface Queryable {
  query (q: pg.QueryConfig | string): Promise<pg.QueryResult<Row>>
}

/**
 * The pool plus the two ways stores use it. Both translate connection-level failures into
 * StoreUnavailableError and never hand a connection that failed that way back to the pool.
 */
export class Db implements Queryable {
  readonly pool: pg.Pool

  constructor (pool: pg.Pool) {
    this.pool = pool
  }

  /** One statement on any pooled connection. */
  async query (q: pg.QueryConfig | string): Promise<pg.QueryResult<Row>> {
    return this.#withClient((client) => client.query<Row>(q))
  }

  /** Runs `fn` between BEGIN and COMMIT on one connection; any error rolls back and is rethrown (translated). */
  async transaction<T> (fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#withClient(async (client, discard) => {
      await client.query('BEGIN')
      let result: T
      try {
        result = await fn(client)
      } catch (err) {
        // On a dead connection there is nothing to roll back: the server aborts the transaction itself.
        if (!isUnavailable(err)) {
          try {
            await client.query('ROLLBACK')
          } catch (rollbackErr) {
            discard(rollbackErr)
          }
        }
        throw err
      }
      await client.query('COMMIT')
      return result
    })
  }

  async #withClient<T> (fn: (client: pg.PoolClient, discard: (err: unknown) => void) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      // Any failure to connect means the database cannot serve us now, whatever its SQLSTATE (55000 "not
      // currently accepting connections", 3D000 a dropped database, 28000 a revoked login...): a list of
      // known codes always misses one, and no statement of ours was involved.
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err)
    }
    // A connection whose state is unknown (dead socket, read timeout while the statement may still run,
    // failed ROLLBACK) is destroyed on release instead of being handed to the next caller.
    let broken: Error | undefined
    const discard = (err: unknown): void => { broken ??= err instanceof Error ? err : new Error(String(err)) }
    // A checked-out client emits 'error' when its socket dies between two statements (the pool only
    // listens while it is idle); unhandled, that event would crash the process. The next statement
    // fails on its own, so recording it is enough.
    client.on('error', discard)
    try {
      return await fn(client, discard)
    } catch (err) {
      if (isUnavailable(err)) discard(err)
      throw toStoreError(err)
    } finally {
      client.removeListener('error', discard)
      client.release(broken)
    }
  }
}

import { StoreUnavailableError } from '../../errors.js'

/** SQLSTATE 23505: a UNIQUE or PRIMARY KEY constraint said no. */
export function isUniqueViolation (err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505'
}

// Socket-level failures: the server is down, restarting or unreachable.
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND',
  'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN'])

// SQLSTATEs that mean "the database cannot serve you right now" rather than "your statement is wrong".
// (Any failure while connecting is "unavailable" whatever its code: lib/stores/postgres/db.ts.)
const unavailableStates = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '57014', // query_canceled: statement_timeout fired, the server is too slow to answer
  '53300', // too_many_connections
  '25P03', // idle_in_transaction_session_timeout: the session is gone
  '3D000', // invalid_catalog_name: the database was dropped
  '42P01' // undefined_table: our tables are gone (a database dropped and re-created empty): not the request's fault
])

// node-postgres raises these as plain Errors with no code; the message is all there is.
const unavailableMessages = [
  /^Connection terminated/, // unexpectedly, due to connection timeout, ...
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection within connectionTimeoutMillis
  /^Query read timeout$/, // query_timeout: no answer at all
  /not queryable$/, // a client whose socket already failed
  /^timeout expired$/
]

/**
 * True when `err` says the database is unreachable, not that the statement failed: the caller gets a
 * StoreUnavailableError (a 503) instead, and the connection it happened on is not reused.
 */
export function isUnavailable (err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (socketCodes.has(code) || unavailableStates.has(code) || /^08...$/.test(code)) return true
  }
  if (unavailableMessages.some((re) => re.test(err.message))) return true
  // Node reports a refused dual-stack connect as an AggregateError; pg-pool wraps timeouts with a cause.
  if (err instanceof AggregateError && err.errors.some((e) => isUnavailable(e, depth + 1))) return true
  return isUnavailable(err.cause, depth + 1)
}

/** What a store method rethrows: connection-level failures become StoreUnavailableError, the rest passes as-is. */
export function toStoreError (err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err
  return isUnavailable(err) ? new StoreUnavailableError(err) : err
}

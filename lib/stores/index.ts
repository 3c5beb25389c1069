import { systemClock, type Clock } from '../clock.js'
import type { Storage } from './types.js'
import { openSqlite } from './sqlite/index.js'

/** Opens the backend `DATABASE_URL` names and applies its migrations. */
export async function openStorage (databaseUrl: string, clock: Clock = systemClock): Promise<Storage> {
  if (databaseUrl.startsWith('sqlite:')) return openSqlite(databaseUrl, clock)
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // Imported on demand, so SQLite-only deployments never load `pg`.
    const { openPostgres } = await import('./postgres/index.js')
    return openPostgres(databaseUrl, clock)
  }
  throw new Error('DATABASE_URL: expected sqlite:PATH or a postgres:// URL')
}

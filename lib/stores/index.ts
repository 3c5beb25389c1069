import type { Storage } from './types.js'
import { openSqlite } from './sqlite/index.js'

/** Opens the backend `DATABASE_URL` names and applies its migrations. */
export async function openStorage (databaseUrl: string): Promise<Storage> {
  if (databaseUrl.startsWith('sqlite:')) return openSqlite(databaseUrl)
  throw new Error('DATABASE_URL: the PostgreSQL backend is not built yet')
}

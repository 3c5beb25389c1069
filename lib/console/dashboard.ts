import type { Storage } from '../stores/types.js'

/** Clients are counted up to this many (the store has no count of them): beyond, the dashboard says "at least". */
export const CLIENTS_COUNTED = 1000

export interface DashboardCounts {
  users: number
  /** How many clients, at most CLIENTS_COUNTED; `clientsCapped` when there may be more. */
  clients: number
  clientsCapped: boolean
  /** Session rows: live ones and expired ones the next sweep removes (SWEEP_INTERVAL_SECONDS). */
  sessions: number
}

/** The console's front page numbers, read from the same stores as the admin API. */
export async function dashboardCounts (storage: Storage): Promise<DashboardCounts> {
  const [users, clients, rows] = await Promise.all([storage.users.count(), storage.clients.list({ limit: CLIENTS_COUNTED + 1, offset: 0 }), storage.housekeeping.tableRows()])
  return { users, clients: Math.min(clients.length, CLIENTS_COUNTED), clientsCapped: clients.length > CLIENTS_COUNTED, sessions: rows.sessions }
}

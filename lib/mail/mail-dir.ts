import { dirname, join, resolve } from 'node:path'
import { PROJECT_ROOT } from '../paths.js'

/**
 * Where messages are written as .eml files when SMTP_URL is unset: `outbox/` beside the SQLite file (the
 * embedded default: `data/outbox/` in the project folder), else `data/outbox/` in the project folder.
 */
export function defaultMailDir (databaseUrl: string): string {
  const path = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : ':memory:'
  return path === ':memory:' ? join(PROJECT_ROOT, 'data', 'outbox') : join(dirname(resolve(path)), 'outbox')
}

import type { Config } from '../config.js'
import { sqlitePath } from '../stores/sqlite/index.js'

/**
 * The start banner (issue 29, "the first five minutes"): once the server listens, one log line a person reads
 * (its `msg`) and a program parses (the same facts as fields): where the server is for clients (the issuer, the
 * address a browser opens), its API docs and metadata, where it keeps its data, and, while the store holds no
 * user yet, the command that makes the first one. A pino line like every other, so JSON logs stay JSON lines.
 * server.ts logs it (once per server, from the first worker with WORKERS); apps built by tests never do.
 */
export interface StartBanner {
  issuer: string
  docs: string
  metadata: string
  database: string
  users: number
  msg: string
}

/** The command the banner names for a store with no user: the CLI run from the project folder (README's quick start). */
export const FIRST_USER_COMMAND = 'npx gatehouse init'

/** Where the data lives, for people: the SQLite file's absolute path, "in memory", or PostgreSQL's host and database (never its credentials). */
export function databaseLabel (databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = sqlitePath(databaseUrl)
    return path === ':memory:' ? 'in memory (gone when the server stops)' : path
  }
  try {
    const url = new URL(databaseUrl)
    return `PostgreSQL at ${url.host}${url.pathname}`
  } catch {
    return 'PostgreSQL'
  }
}

export function startBanner (config: Pick<Config, 'issuer' | 'databaseUrl'>, users: number, version: string): StartBanner {
  const base = config.issuer.replace(/\/$/, '')
  const docs = `${base}/docs`
  const metadata = `${base}/.well-known/oauth-authorization-server`
  const database = databaseLabel(config.databaseUrl)
  const next = users === 0
    ? `no users yet: create an admin with \`${FIRST_USER_COMMAND}\` (it prints a generated password once)`
    : `${users} ${users === 1 ? 'user' : 'users'}`
  const msg = `Gatehouse ${version} is ready at ${base} | API docs: ${docs} | metadata: ${metadata} | database: ${database} | ${next}`
  return { issuer: config.issuer, docs, metadata, database, users, msg }
}

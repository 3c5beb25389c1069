import type Database from 'better-sqlite3'
import type { Clock } from '../../clock.js'
import { toResource, type Row } from '../rows.js'
import { ConflictError, type NewResource, type Page, type Resource, type ResourceStore } from '../types.js'
import { isUniqueViolation } from './errors.js'

/** RFC 8707 resources (lib/stores/types.ts Resource). */
export class SqliteResourceStore implements ResourceStore {
  readonly #clock: Clock
  readonly #insert: Database.Statement
  readonly #find: Database.Statement
  readonly #list: Database.Statement
  readonly #delete: Database.Statement

  constructor (db: Database.Database, clock: Clock) {
    this.#clock = clock
    this.#insert = db.prepare('INSERT INTO resources (uri, name, scope, created_at) VALUES (?, ?, ?, ?) RETURNING *')
    this.#find = db.prepare('SELECT * FROM resources WHERE uri = ?')
    this.#list = db.prepare('SELECT * FROM resources ORDER BY uri LIMIT ? OFFSET ?')
    this.#delete = db.prepare('DELETE FROM resources WHERE uri = ? RETURNING *')
  }

  async create (r: NewResource): Promise<Resource> {
    try {
      return toResource(this.#insert.get(r.uri, r.name, r.scope, this.#clock.now()) as Row)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`resource ${r.uri} already exists`)
      throw err
    }
  }

  async find (uri: string): Promise<Resource | undefined> {
    const row = this.#find.get(uri) as Row | undefined
    return row && toResource(row)
  }

  async list (page: Page): Promise<Resource[]> {
    return (this.#list.all(page.limit, page.offset) as Row[]).map(toResource)
  }

  async delete (uri: string): Promise<Resource | undefined> {
    const row = this.#delete.get(uri) as Row | undefined
    return row && toResource(row)
  }
}

import type { Clock } from '../../clock.js'
import { toResource } from '../rows.js'
import { ConflictError, type NewResource, type Page, type Resource, type ResourceStore } from '../types.js'
import { onlyRow, pageValues, type Db } from './db.js'
import { isUniqueViolation } from './errors.js'
import { assertNoNul, hasNul } from './nul.js'

/** RFC 8707 resources (lib/stores/types.ts Resource). */
export class PostgresResourceStore implements ResourceStore {
  readonly #db: Db
  readonly #clock: Clock

  constructor (db: Db, clock: Clock) {
    this.#db = db
    this.#clock = clock
  }

  async create (r: NewResource): Promise<Resource> {
    assertNoNul(r, 'resource')
    try {
      const { rows } = await this.#db.query({
        name: 'gh_resources_insert',
        text: 'INSERT INTO resources (uri, name, scope, created_at) VALUES ($1, $2, $3, $4) RETURNING *',
        values: [r.uri, r.name, r.scope, this.#clock.now()]
      })
      return toResource(onlyRow(rows))
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`resource ${r.uri} already exists`)
      throw err
    }
  }

  async find (uri: string): Promise<Resource | undefined> {
    if (hasNul(uri)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_resources_find', text: 'SELECT * FROM resources WHERE uri = $1', values: [uri] })
    return rows[0] && toResource(rows[0])
  }

  async list (page: Page): Promise<Resource[]> {
    const { rows } = await this.#db.query({ name: 'gh_resources_list', text: 'SELECT * FROM resources ORDER BY uri LIMIT $1 OFFSET $2', values: pageValues(page) })
    return rows.map(toResource)
  }

  async delete (uri: string): Promise<Resource | undefined> {
    if (hasNul(uri)) return undefined
    const { rows } = await this.#db.query({ name: 'gh_resources_delete', text: 'DELETE FROM resources WHERE uri = $1 RETURNING *', values: [uri] })
    return rows[0] && toResource(rows[0])
  }
}

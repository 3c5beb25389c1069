import { invalidInput } from '../errors.js'
import { checkedPage } from '../admin/page.js'
import type { Page, Storage, User } from '../stores/types.js'

/** How many users an e-mail search shows at most (addresses are not unique). */
export const EMAIL_MATCHES = 50

/** The page a console list asked for (`limit`, `offset` as query text), under the admin API's own bounds. */
export function pageOf (query: { limit?: string, offset?: string }): Page {
  const number = (text: string | undefined, name: string): number | undefined => {
    if (text === undefined || text === '') return undefined
    if (!/^\d{1,10}$/.test(text)) throw invalidInput(`${name}: a whole number`)
    return Number(text)
  }
  const page = checkedPage({ limit: number(query.limit, 'limit'), offset: number(query.offset, 'offset') })
  if (page.limit < 1 || page.limit > 1000) throw invalidInput('limit: from 1 to 1000')
  if (page.offset > 2 ** 31 - 1) throw invalidInput('offset: too large')
  return page
}

/**
 * The users list of the console: a page in username order (as GET /admin/users), or, with a search, the user of
 * that exact username (as GET /admin/users/{username}) or those with that e-mail address (compared without case).
 */
export async function findUsers (storage: Storage, query: { q?: string, limit?: string, offset?: string }): Promise<{ users: User[], page: Page, search: string | undefined }> {
  const page = pageOf(query)
  const search = query.q?.trim() || undefined
  if (search === undefined) return { users: await storage.users.list(page), page, search }
  if (search.includes('@')) return { users: await storage.users.findByEmail(search, EMAIL_MATCHES), page, search }
  const user = await storage.users.findByUsername(search.toLowerCase())
  return { users: user ? [user] : [], page, search }
}

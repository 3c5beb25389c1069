import type { Static } from '@sinclair/typebox'
import { invalidInput } from '../errors.js'
import { DEFAULT_PAGE, type Page, type Paging } from '../../schemas/admin.js'

/**
 * The page a list request asked for, refused unless both numbers are finite. Ajv's type coercion turns the
 * query text "Infinity" (or "1e400") into the number Infinity, which it accepts as an integer and then
 * exempts from minimum/maximum (those only test finite numbers): `?limit=Infinity` reached the database.
 */
export function checkedPage (query: Static<typeof Paging>): Page {
  const page = { limit: query.limit ?? DEFAULT_PAGE.limit, offset: query.offset ?? DEFAULT_PAGE.offset }
  if (!Number.isSafeInteger(page.limit) || !Number.isSafeInteger(page.offset)) throw invalidInput('limit and offset must be whole numbers in range')
  return page
}

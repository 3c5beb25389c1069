/**
 * PostgreSQL text (and jsonb) cannot hold U+0000; binding one fails the whole statement. SQLite stores it
 * happily, so the backends agree like this: a lookup by a key containing NUL finds nothing (no such row can
 * exist here), and a write containing one is refused with a clear error instead of a driver error.
 */
export function hasNul (value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (Array.isArray(value)) return value.some(hasNul)
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasNul)
  return false
}

export class NulCharacterError extends Error {
  override name = 'NulCharacterError'
}

/** Throws when any string in `value` (deeply) contains U+0000; `what` names the record for the message. */
export function assertNoNul (value: unknown, what: string): void {
  if (hasNul(value)) throw new NulCharacterError(`${what}: text values cannot contain the NUL character (U+0000)`)
}

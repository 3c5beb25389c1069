import type { FactorKind, Storage, UserFactor } from '../stores/types.js'

/** The longest factor id worth looking up (ids are UUIDs): anything longer is none of anyone's. */
const MAX_FACTOR_ID = 64

/**
 * Removes one of the user's own factors (only of `kind` when given), an authenticator app or a passkey alike;
 * undefined when it was none of theirs. With the last confirmed factor gone, the recovery codes go too: they are a
 * way past a second factor the user no longer has, and a first factor enrolled later comes with a new set
 * (enrolment.ts).
 */
export async function removeOwnFactor (storage: Storage, userId: string, factorId: unknown, now: number, kind?: FactorKind): Promise<UserFactor | undefined> {
  if (typeof factorId !== 'string' || factorId.length > MAX_FACTOR_ID) return undefined
  const factor = await storage.factors.get(userId, factorId)
  if (!factor || (kind !== undefined && factor.kind !== kind) || !await storage.factors.remove(userId, factor.id)) return undefined
  if (await storage.factors.countConfirmed(userId) === 0) await storage.factors.replaceRecoveryCodes(userId, [], now)
  return factor
}

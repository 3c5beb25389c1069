import type { Grant, RefreshToken, Storage } from '../../lib/stores/types.js'

/**
 * Creates a grant for store tests: a grant is only created for a user that exists, is enabled and holds the
 * grant's credential version, so the user (`userId` as id and username) is imported first when missing.
 */
export async function createGrant (s: Pick<Storage, 'users' | 'grants'>, grant: Omit<Grant, 'revokedAt' | 'credentialVersion'>, first: RefreshToken): Promise<void> {
  const user = await s.users.findById(grant.userId) ?? (await s.users.importBatch([{ id: grant.userId, username: grant.userId.toLowerCase(), passwordHash: null }], { update: false }), await s.users.findById(grant.userId))
  if (!user) throw new Error(`could not make user ${grant.userId}`)
  if (!await s.grants.create({ ...grant, credentialVersion: user.credentialVersion }, first)) throw new Error('grant not created')
}

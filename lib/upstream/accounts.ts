import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import { UNUSABLE_PASSWORD } from '../credentials/passwords.js'
import { checkUserInput } from '../admin/users.js'
import type { Storage, UpstreamProvider, User, UserPatch } from '../stores/types.js'
import { USERNAME } from '../../schemas/common.js'
import type { UpstreamProfile } from './client.js'

/**
 * Which local user an account at a provider signs in as (issue 14, CONTRACT "Upstream providers"):
 * - a linked account (provider, issuer, subject) is its user; another provider never matches (F2);
 * - else, with link_by_email and an e-mail the provider marks verified, the one local user with that e-mail
 *   (never on an unverified e-mail, never when two users share it), and only while that user has no identity
 *   at any provider, unless the provider's link_linked_accounts allows it: otherwise whoever first linked a
 *   provider account carrying someone's address (a provider that verifies addresses loosely, or an account
 *   renamed there) would share the account the real owner later reaches through another provider;
 * - else, unless create_users is off, a new local user, marked `provider:<name>` (created_by): username from
 *   the username claim or the verified e-mail when free and valid, else `{provider}-{random}`; full name from
 *   the name; e-mail only when verified and no other local user has it; a password hash no password matches;
 * - a disabled user is refused. The user's full name follows the provider at each sign-in; the local e-mail
 *   never does (the provider's current one is kept on the link): a provider account must not be able to steer
 *   which local account a later link by e-mail finds.
 */
export type AccountOutcome =
  | { outcome: 'existing' | 'linked' | 'created', user: User }
  | { outcome: 'refused', reason: 'unknown_account' | 'disabled' }

export async function resolveAccount (deps: { storage: Storage, clock: Clock }, provider: UpstreamProvider, profile: UpstreamProfile): Promise<AccountOutcome> {
  const { storage, clock } = deps
  const verifiedEmail = profile.emailVerified && profile.email !== null && validEmail(profile.email) ? profile.email : null
  const found = await linkedUser(storage, provider, profile.subject)
  let user: User | undefined = found
  let outcome: 'existing' | 'linked' | 'created' = 'existing'
  if (!user) {
    if (provider.linkByEmail && verifiedEmail !== null) {
      const matches = await storage.users.findByEmail(verifiedEmail, 2)
      if (matches.length === 1 && await mayLinkByEmail(storage, provider, matches[0]!)) { user = matches[0]; outcome = 'linked' }
    }
    if (!user) {
      if (!provider.createUsers) return { outcome: 'refused', reason: 'unknown_account' }
      // An e-mail another local user holds is not given to a second one (it would make linking by e-mail ambiguous).
      const freeEmail = verifiedEmail !== null && (await storage.users.findByEmail(verifiedEmail, 1)).length === 0 ? verifiedEmail : null
      user = await createLocalUser(storage, provider, profile, freeEmail)
      outcome = 'created'
    }
    const link = { provider: provider.name, issuer: provider.issuer, subject: profile.subject, userId: user.id, email: profile.email, linkedAt: clock.now() }
    try {
      await storage.identities.link(link)
    } catch (err) {
      if ((err as Error).name !== 'ConflictError') throw err
      // A first sign-in of the same account at the same moment linked it first: use that link, drop ours.
      if (outcome === 'created') await storage.users.delete(user.username).catch(() => {})
      const winner = await linkedUser(storage, provider, profile.subject)
      if (!winner) throw err
      user = winner
      outcome = 'existing'
    }
  } else {
    await storage.identities.touch(provider.name, provider.issuer, profile.subject, profile.email)
  }
  if (user.disabled) return { outcome: 'refused', reason: 'disabled' }
  return { outcome, user: await refresh(storage, user, profile) }
}

/** Linking by e-mail reaches a user with no identity yet, or any user when the provider allows it. */
async function mayLinkByEmail (storage: Storage, provider: UpstreamProvider, user: User): Promise<boolean> {
  return provider.linkLinkedAccounts || (await storage.identities.listForUser(user.id)).length === 0
}

async function linkedUser (storage: Storage, provider: UpstreamProvider, subject: string): Promise<User | undefined> {
  const identity = await storage.identities.find(provider.name, provider.issuer, subject)
  return identity ? await storage.users.findById(identity.userId) : undefined
}

function validEmail (email: string): boolean {
  try { checkUserInput({ email }); return true } catch { return false }
}

function validFullName (name: string): boolean {
  try { checkUserInput({ fullName: name }); return true } catch { return false }
}

async function createLocalUser (storage: Storage, provider: UpstreamProvider, profile: UpstreamProfile, verifiedEmail: string | null): Promise<User> {
  const candidates = [profile.username, verifiedEmail]
    .filter((c): c is string => c !== null)
    .map((c) => c.toLowerCase())
    .filter((c) => USERNAME.test(c))
  for (let attempt = 0; ; attempt++) {
    const username = candidates.shift() ?? `${provider.name}-${randomBytes(5).toString('hex')}`
    if (await storage.users.findByUsername(username)) continue
    try {
      return await storage.users.create({
        username,
        passwordHash: UNUSABLE_PASSWORD,
        fullName: profile.name !== null && validFullName(profile.name) ? profile.name : null,
        email: verifiedEmail,
        scope: '',
        createdBy: `provider:${provider.name}`
      })
    } catch (err) {
      // Taken meanwhile: the next candidate (at worst a generated name).
      if ((err as Error).name !== 'ConflictError' || attempt > 5) throw err
    }
  }
}

/**
 * The provider's name replaces the stored one when it differs. The e-mail is not refreshed: an address the
 * provider changes later (or verifies later) is recorded on the link only (identities.touch), so the local
 * e-mail, which linking by e-mail and the user's own messages go by, changes only through an administrator.
 */
async function refresh (storage: Storage, user: User, profile: UpstreamProfile): Promise<User> {
  const patch: UserPatch = {}
  if (profile.name !== null && validFullName(profile.name) && profile.name !== user.fullName) patch.fullName = profile.name
  if (Object.keys(patch).length === 0) return user
  return await storage.users.update(user.username, patch) ?? user
}

export type LinkOutcome = 'linked' | 'already' | 'taken'

/**
 * A signed-in user's sign-in at `provider` started from their account page ("link another"): links that provider
 * account to `user` when it is linked to nobody yet; `already` when it is theirs already; `taken` when it is linked
 * to another local user (never moved: that would hand one person's account to another). Nothing else about the
 * user changes (no name or e-mail from the provider).
 */
export async function linkToUser (deps: { storage: Storage, clock: Clock }, provider: UpstreamProvider, profile: UpstreamProfile, user: User): Promise<LinkOutcome> {
  const { storage, clock } = deps
  const existing = await storage.identities.find(provider.name, provider.issuer, profile.subject)
  if (existing) return existing.userId === user.id ? 'already' : 'taken'
  try {
    await storage.identities.link({ provider: provider.name, issuer: provider.issuer, subject: profile.subject, userId: user.id, email: profile.email, linkedAt: clock.now() })
    return 'linked'
  } catch (err) {
    if ((err as Error).name !== 'ConflictError') throw err
    // Linked at the same moment by another sign-in: whoever won holds it.
    return (await storage.identities.find(provider.name, provider.issuer, profile.subject))?.userId === user.id ? 'already' : 'taken'
  }
}

import t, { type Test } from 'tap'
import { findLink, isLinkToken, issueLink, LINK_LIFETIME_SECONDS, redeemLink } from '../../../lib/accounts/links.js'
import { digest } from '../../../lib/credentials/digest.js'
import { openStorage } from '../../../lib/stores/index.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// The link rules against a real SQLite store, no app (test/stores/account-links-* run the store on both backends).

const now = 1_800_000_000

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const user = await storage.users.create({ username: 'alice', passwordHash: null, email: 'a@x.test' })
  return { store: storage.accountLinks, user }
}

t.test('lifetimes: 24 h to verify (a sign-up, a changed address), 30 min to reset, 7 days for an invitation', async (t) => {
  t.same(LINK_LIFETIME_SECONDS, { verify_email: 86400, signup: 86400, change_email: 86400, reset_password: 1800, invitation: 604800 })
})

t.test('a link is stored only as the digest of its token, and works once, until it expires', async (t) => {
  const { store, user } = await setup(t)
  const { token, link } = await issueLink(store, { purpose: 'reset_password', userId: user.id, email: user.email, now })
  t.ok(isLinkToken(token))
  t.equal(link.tokenHash, digest(token))
  t.not(link.tokenHash, token)
  t.equal(link.expiresAt, now + 1800)
  t.equal(await findLink(store, token, 'verify_email', now), undefined, 'another purpose')
  t.equal(await redeemLink(store, token, 'reset_password', now + 1800), undefined, 'expired after 30 min')
  t.ok(await findLink(store, token, 'reset_password', now + 1799), 'find does not use it')
  t.match(await redeemLink(store, token, 'reset_password', now + 1799), { userId: user.id })
  t.equal(await redeemLink(store, token, 'reset_password', now + 1799), undefined, 'once')
})

t.test('a tampered or malformed token finds nothing', async (t) => {
  const { store, user } = await setup(t)
  const { token } = await issueLink(store, { purpose: 'verify_email', userId: user.id, email: user.email, now })
  const tampered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1)
  t.equal(await redeemLink(store, tampered, 'verify_email', now), undefined)
  for (const bad of [undefined, '', 'x', token + 'x', ['a'], 42, token.slice(0, 42) + '=']) {
    t.equal(isLinkToken(bad), false)
    t.equal(await redeemLink(store, bad, 'verify_email', now), undefined)
  }
  t.ok(await redeemLink(store, token, 'verify_email', now), 'the real one still works')
})

t.test('a newer reset link voids the older ones; invitations stand side by side', async (t) => {
  const { store, user } = await setup(t)
  const first = await issueLink(store, { purpose: 'reset_password', userId: user.id, email: user.email, now })
  const second = await issueLink(store, { purpose: 'reset_password', userId: user.id, email: user.email, now: now + 1 })
  t.equal(await redeemLink(store, first.token, 'reset_password', now + 2), undefined, 'the older link is void')
  t.ok(await redeemLink(store, second.token, 'reset_password', now + 2))
  const a = await issueLink(store, { purpose: 'invitation', userId: null, email: 'b@x.test', scope: 'read', now })
  const b = await issueLink(store, { purpose: 'invitation', userId: null, email: 'c@x.test', now })
  t.match(await redeemLink(store, a.token, 'invitation', now), { email: 'b@x.test', scope: 'read' })
  t.match(await redeemLink(store, b.token, 'invitation', now), { email: 'c@x.test', scope: null })
})

import t, { type Test } from 'tap'
import { answerSignupRequest, checkSignupForm, completeSignup, pendingSignup, requestSignup, SignupsFullError, type QueuedSignup, type SignupForm, type SignupRequest } from '../../../lib/accounts/signup.js'
import { issueLink } from '../../../lib/accounts/links.js'
import { PENDING_SIGNUPS_MAX } from '../../../lib/limits/table-bounds.js'
import { openStorage } from '../../../lib/stores/index.js'
import type { Storage } from '../../../lib/stores/types.js'
import { tempDatabaseUrl } from '../../support/helper.js'

// The sign-up rules against a real SQLite store, no app: what a form must be, what the request queues (the same for
// a new and a taken e-mail), what answering it stores and sends for each, and what following the link makes. The
// pages: test/routes/browser/signup.test.ts.

const now = 1_800_000_000
const form = (over: Partial<SignupForm> = {}): SignupForm =>
  ({ username: 'dora', email: 'dora@example.test', password: 'a long enough passphrase', fullName: 'Dora Explorer', returnTo: undefined, ...over })

async function setup (t: Test) {
  const storage = await openStorage(tempDatabaseUrl(t))
  t.teardown(() => storage.close())
  const sent: Array<{ kind: string, to: string, data: Record<string, unknown> }> = []
  const hashed: string[] = []
  const queued: QueuedSignup[] = []
  const deps = {
    storage,
    passwords: { hash: async (p: string) => { hashed.push(p); return `$fake$${hashed.length}` } },
    queue: async (signup: QueuedSignup) => { queued.push(signup) },
    send: async (kind: string, to: string, data: Record<string, unknown> = {}) => { sent.push({ kind, to, data }); return 'id' }
  }
  /** The request, then the deferred answer to what it queued (as plugins/account-requests.ts runs it). */
  const signUp = async (request: SignupRequest, at = now) => {
    await requestSignup(deps, request, at)
    for (const signup of queued.splice(0)) await answerSignupRequest(deps, signup, at)
  }
  return { storage, deps, sent, hashed, queued, signUp }
}

const checked = (over: Partial<SignupForm> = {}): SignupRequest => {
  const check = checkSignupForm(form(over))
  if (!check.ok) throw new Error(check.message)
  return check.request
}

const linkCount = async (storage: Storage) => storage.accountLinks.countPending('signup', now)

t.test('the form: a username as usernames are made, one e-mail address, the password rules, a one-line name', async (t) => {
  t.match(checkSignupForm(form()), { ok: true, request: { username: 'dora', email: 'dora@example.test', fullName: 'Dora Explorer', returnTo: null } })
  t.match(checkSignupForm(form({ username: ' Dora ' })), { ok: true, request: { username: 'dora' } }, 'capitals folded, spaces trimmed')
  t.match(checkSignupForm(form({ fullName: '  ' })), { ok: true, request: { fullName: null } })
  t.match(checkSignupForm(form({ returnTo: '/authorize?client_id=web' })), { ok: true, request: { returnTo: '/authorize?client_id=web' } })
  t.match(checkSignupForm(form({ returnTo: 'https://evil.test/' })), { ok: true, request: { returnTo: null } }, 'only a path of /authorize is kept')
  for (const username of ['', '-dora', 'dora smith', 'x'.repeat(65), 'dörа', ['dora']]) {
    t.match(checkSignupForm(form({ username })), { ok: false, field: 'username' }, JSON.stringify(username))
  }
  for (const email of ['', 'dora', 'a@b@c', 'Dora <dora@example.test>', 'dora@example.test\r\nBcc: x@y', 'a,b@c.test']) {
    t.match(checkSignupForm(form({ email })), { ok: false, field: 'email' }, JSON.stringify(email))
  }
  t.match(checkSignupForm(form({ fullName: 'Dora\nBcc: x' })), { ok: false, field: 'full_name' })
  t.match(checkSignupForm(form({ fullName: 'x'.repeat(257) })), { ok: false, field: 'full_name' })
  t.match(checkSignupForm(form({ password: 'short' })), { ok: false, field: 'password', message: /at least 8/ })
  t.match(checkSignupForm(form({ password: 'password1' })), { ok: false, field: 'password', message: /too common/ })
  t.match(checkSignupForm(form({ password: 'dora@example.test' })), { ok: false, field: 'password', message: /not your username/ })
  t.match(checkSignupForm(form({ password: undefined })), { ok: false, field: 'password' })
})

t.test('the request queues one sign-up carrying the hash, never the password, and the same for a new and a taken e-mail; nothing else', async (t) => {
  const { storage, deps, sent, hashed, queued } = await setup(t)
  await storage.users.create({ username: 'bob', passwordHash: null, email: 'bob@example.test', emailVerified: true })
  await requestSignup(deps, checked({ returnTo: '/authorize?client_id=web' }), now)
  await requestSignup(deps, checked({ email: 'bob@example.test', returnTo: '/authorize?client_id=web' }), now)
  t.same(hashed, ['a long enough passphrase', 'a long enough passphrase'], 'hashed either way')
  const expected = { username: 'dora', fullName: 'Dora Explorer', returnTo: '/authorize?client_id=web' }
  t.same(queued, [{ email: 'dora@example.test', ...expected, passwordHash: '$fake$1' }, { email: 'bob@example.test', ...expected, passwordHash: '$fake$2' }], 'one request each, the same shape')
  t.notMatch(JSON.stringify(queued), 'passphrase', 'the password itself is not queued')
  t.same(sent, [], 'nothing sent inside the request')
  t.equal(await linkCount(storage), 0, 'nothing stored inside the request')
})

t.test('a new e-mail: a signup link carrying the account (its hash, never the password) is stored and mailed; no user yet', async (t) => {
  const { storage, sent, hashed, signUp } = await setup(t)
  await signUp(checked({ returnTo: '/authorize?client_id=web' }))
  t.same(hashed, ['a long enough passphrase'])
  t.equal(sent.length, 1)
  t.match(sent[0], { kind: 'signup', to: 'dora@example.test', data: { username: 'dora', token: /^[A-Za-z0-9_-]{43}$/ } })
  const [link] = await storage.accountLinks.listPending('signup', now, 10)
  t.match(link, { email: 'dora@example.test', userId: null, data: { username: 'dora', fullName: 'Dora Explorer', passwordHash: '$fake$1', returnTo: '/authorize?client_id=web' } })
  t.notMatch(JSON.stringify(link), 'passphrase', 'the password itself is not stored')
  t.equal(await storage.users.findByUsername('dora'), undefined, 'no account before the link is followed')
  t.same(await pendingSignup(storage, sent[0]!.data.token, now), { username: 'dora', email: 'dora@example.test', returnTo: '/authorize?client_id=web' })
  t.equal(await linkCount(storage), 1, 'pendingSignup used nothing')
})

t.test('a taken e-mail (any case): nothing stored, the address is told it has an account; the hash is made all the same', async (t) => {
  const { storage, sent, hashed, signUp } = await setup(t)
  const bob = await storage.users.create({ username: 'bob', passwordHash: null, email: 'Dora@Example.test', emailVerified: true })
  await signUp(checked())
  t.equal(hashed.length, 1, 'the same work as a new e-mail')
  t.same(sent, [{ kind: 'account-exists', to: 'dora@example.test', data: { username: 'bob' } }], 'its proven owner is told the username')
  t.equal(await linkCount(storage), 0)
  await storage.users.update(bob.username, { emailVerified: false })
  await signUp(checked())
  t.same(sent[1], { kind: 'account-exists', to: 'dora@example.test', data: { username: null } }, 'an address nobody proved learns no username')
})

t.test('following the link makes the account once: verified e-mail, the stored hash, default scopes', async (t) => {
  const { storage, sent, signUp } = await setup(t)
  await signUp(checked({ returnTo: '/authorize?client_id=web' }))
  const token = sent[0]!.data.token
  const outcome = await completeSignup(storage, token, now + 60)
  t.match(outcome, { kind: 'created', returnTo: '/authorize?client_id=web', user: { username: 'dora', email: 'dora@example.test', emailVerified: true, fullName: 'Dora Explorer', passwordHash: '$fake$1', scope: '', disabled: false } })
  t.same(await completeSignup(storage, token, now + 60), { kind: 'bad_link' }, 'once')
  t.equal(await pendingSignup(storage, token, now + 60), undefined)
  t.same(await completeSignup(storage, 'not a token', now), { kind: 'bad_link' })
})

t.test('expired after 24 h; a username or e-mail taken while the link waited: nothing made, the link used up', async (t) => {
  const { storage, sent, signUp } = await setup(t)
  await signUp(checked())
  t.same(await completeSignup(storage, sent[0]!.data.token, now + 24 * 3600), { kind: 'bad_link' }, 'expired')
  await signUp(checked())
  await storage.users.create({ username: 'dora', passwordHash: null })
  t.same(await completeSignup(storage, sent[1]!.data.token, now), { kind: 'username_taken' })
  t.same(await completeSignup(storage, sent[1]!.data.token, now), { kind: 'bad_link' }, 'used up')
  await signUp(checked({ username: 'dora2' }))
  await signUp(checked({ username: 'dora3' }))
  t.match(await completeSignup(storage, sent[2]!.data.token, now), { kind: 'created' })
  t.same(await completeSignup(storage, sent[3]!.data.token, now), { kind: 'email_taken' }, 'two sign-ups for one address make one account')
  t.equal((await storage.users.findByEmail('dora@example.test', 5)).length, 1)
})

t.test('past PENDING_SIGNUPS_MAX waiting sign-ups: refused before anything is queued, for a new and a taken e-mail alike', async (t) => {
  const { storage, deps, sent, queued, signUp } = await setup(t)
  await storage.users.create({ username: 'bob', passwordHash: null, email: 'bob@example.test' })
  for (let i = 0; i < PENDING_SIGNUPS_MAX; i++) {
    await issueLink(storage.accountLinks, { purpose: 'signup', userId: null, email: `u${i}@example.test`, data: { username: `u${i}`, passwordHash: 'h' }, now })
  }
  await t.rejects(requestSignup(deps, checked(), now), SignupsFullError)
  await t.rejects(requestSignup(deps, checked({ email: 'bob@example.test' }), now), SignupsFullError)
  t.same(queued, [])
  t.same(sent, [])
  t.equal(await linkCount(storage), PENDING_SIGNUPS_MAX)
  await signUp(checked(), now + 24 * 3600)
  t.equal(sent.length, 1, 'the waiting ones expired: room again')
})

t.test('the outbox refusing the message: the answer fails (to be tried again) and the link it would have carried is removed', async (t) => {
  const { storage, deps, queued } = await setup(t)
  await requestSignup(deps, checked(), now)
  const full = { ...deps, send: async () => { throw new Error('the outbox is full') } }
  await t.rejects(answerSignupRequest(full, queued[0]!, now), /outbox is full/)
  t.equal(await linkCount(storage), 0)
})

t.test('the outbox refusing the request: the request fails, nothing stored', async (t) => {
  const { storage, deps } = await setup(t)
  const full = { ...deps, queue: async () => { throw new Error('the outbox is full') } }
  await t.rejects(requestSignup(full, checked(), now), /outbox is full/)
  t.equal(await linkCount(storage), 0)
})

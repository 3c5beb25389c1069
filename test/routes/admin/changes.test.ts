import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { exportUsers } from '../../../lib/admin/user-import.js'
import { addClient, addUser, basic, buildListening, form } from '../../support/helper.js'

// Issue 10: what admin changes do to tokens already issued, and to sign-ins in flight, over a listening server.
// Defect 2 (a password change, a disable or a delete loses to an in-flight login), 5 (a re-created client
// revives its predecessor's tokens), 6 and 7 (scopes taken from a client or a user), 9 (a client named after a
// user's sub). Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

type Reply = { status: number, body: Record<string, any> }

async function setup (t: Parameters<typeof buildListening>[0]) {
  const { app, url } = await buildListening(t)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const http = async (method: string, path: string, init: { form?: Record<string, string>, json?: unknown, headers?: Record<string, string> } = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...init.headers }
    let body: string | undefined
    if (init.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = form(init.form) }
    if (init.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(init.json) }
    const res = await fetch(url + path, { method, headers, body })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {} }
  }
  const login = (username: string, password: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}) =>
    http('POST', '/token', { form: { grant_type: 'password', username, password, ...extra }, headers })
  const admin = { authorization: `Bearer ${(await login('root', 'root-pw')).body.access_token as string}` }
  const me = (token: string) => http('GET', '/users/me', { headers: { authorization: `Bearer ${token}` } })
  return { app, url, http, login, admin, me }
}

/**
 * Holds the next password verification of `held` until released, so a sign-in is provably in flight (its
 * user row already read) while the test changes the user: no timing involved.
 */
function holdVerification (app: FastifyInstance, held: string) {
  const original = app.passwords.verify
  let entered!: () => void
  let release!: () => void
  const inFlight = new Promise<void>((resolve) => { entered = resolve })
  const gate = new Promise<void>((resolve) => { release = resolve })
  app.passwords.verify = async (stored, candidate) => {
    if (![held].includes(candidate)) return original.call(app.passwords, stored, candidate)
    app.passwords.verify = original
    const result = await original.call(app.passwords, stored, candidate)
    entered()
    await gate
    return result
  }
  return { inFlight, release }
}

const changes: Array<[string, (s: Awaited<ReturnType<typeof setup>>) => Promise<Reply>]> = [
  ['a new password', (s) => s.http('PATCH', '/admin/users/alice', { json: { password: 'new-pw' }, headers: s.admin })],
  ['disabling', (s) => s.http('PATCH', '/admin/users/alice', { json: { disabled: true }, headers: s.admin })],
  ['deleting', (s) => s.http('DELETE', '/admin/users/alice', { headers: s.admin })]
]

for (const [what, change] of changes) {
  t.test(`defect 2: a sign-in in flight when ${what} returns gets no family and no usable token`, async (t) => {
    const s = await setup(t)
    await addUser(s.app, 'alice', 'old-pw', { scope: 'read' })
    const svcSecret = await addClient(s.app, 'svc', { grantTypes: ['password'] })

    // The built-in client (refresh tokens): the family is refused in the transaction that would create it.
    const held = holdVerification(s.app, 'old-pw')
    const pending = s.login('alice', 'old-pw')
    await held.inFlight
    const changed = await change(s)
    t.ok(changed.status === 200 || changed.status === 204, `${what} returned ${changed.status}`)
    held.release()
    const answer = await pending
    t.equal(answer.status, 400, 'the sign-in that read the old row is refused')
    t.equal(answer.body.error, 'invalid_grant')
    t.notOk(answer.body.refresh_token, 'no refresh token')

    // A client without refresh tokens: the access token minted from the old read is refused at the bearer check.
    const held2 = holdVerification(s.app, what === 'a new password' ? 'new-pw' : 'old-pw')
    if (what === 'disabling') await s.http('PATCH', '/admin/users/alice', { json: { disabled: false }, headers: s.admin })
    if (what === 'deleting') await addUser(s.app, 'alice', 'old-pw', { scope: 'read' })
    const pending2 = s.login('alice', what === 'a new password' ? 'new-pw' : 'old-pw', { authorization: basic('svc', svcSecret!) })
    await held2.inFlight
    const changed2 = what === 'a new password'
      ? await s.http('PATCH', '/admin/users/alice', { json: { password: 'newer-pw' }, headers: s.admin })
      : await change(s)
    t.ok(changed2.status === 200 || changed2.status === 204)
    held2.release()
    const answer2 = await pending2
    t.equal(answer2.status, 200, 'without a family to create, the sign-in itself succeeds')
    t.equal((await s.me(answer2.body.access_token)).status, 401, 'but the access token from the old read is refused')
    if (what === 'disabling') {
      await s.http('PATCH', '/admin/users/alice', { json: { disabled: false }, headers: s.admin })
      t.equal((await s.me(answer2.body.access_token)).status, 401, 're-enabling does not revive it')
    }
  })
}

t.test('defect 2: re-enabling does not revive a family created before the disable', async (t) => {
  const s = await setup(t)
  await addUser(s.app, 'alice', 'pw', { scope: 'read' })
  const before = (await s.login('alice', 'pw')).body
  await s.http('PATCH', '/admin/users/alice', { json: { disabled: true }, headers: s.admin })
  await s.http('PATCH', '/admin/users/alice', { json: { disabled: false }, headers: s.admin })
  t.equal((await s.me(before.access_token)).status, 401)
  t.equal((await s.http('POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: before.refresh_token } })).body.error, 'invalid_grant')
  t.equal((await s.login('alice', 'pw')).status, 200, 'a new sign-in works')
})

t.test('defect 5: a client re-created under an old id does not bring its predecessor\'s tokens back', async (t) => {
  const s = await setup(t)
  const secret = await addClient(s.app, 'svc', { grantTypes: ['client_credentials', 'password'], scope: 'admin' })
  await addUser(s.app, 'alice', 'pw', { scope: 'admin' })
  const own = (await s.http('POST', '/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: basic('svc', secret!) } })).body.access_token as string
  const forUser = (await s.login('alice', 'pw', { authorization: basic('svc', secret!) })).body.access_token as string
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${own}` } })).status, 200, 'the client token works')
  t.equal((await s.me(forUser)).status, 200)
  t.equal((await s.http('DELETE', '/admin/clients/svc', { headers: s.admin })).status, 204)
  const again = await s.http('POST', '/admin/clients', { json: { client_id: 'svc', grant_types: ['client_credentials', 'password'], scope: 'admin' }, headers: s.admin })
  t.equal(again.status, 201)
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${own}` } })).status, 401, 'the old client token stays dead')
  t.equal((await s.me(forUser)).status, 401, 'so does a user token issued through the old registration')
  const fresh = (await s.http('POST', '/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: basic('svc', again.body.client_secret) } })).body.access_token as string
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${fresh}` } })).status, 200, 'the new registration\'s tokens work')
})

t.test('defect 6: a scope taken from a client reaches its refresh families and its tokens at once', async (t) => {
  const s = await setup(t)
  const secret = await addClient(s.app, 'web', { grantTypes: ['password', 'refresh_token', 'client_credentials'], scope: 'admin read' })
  await addUser(s.app, 'alice', 'pw', { scope: 'admin read' })
  const web = { authorization: basic('web', secret!) }
  const issued = (await s.login('alice', 'pw', web)).body
  t.equal(issued.scope, 'admin read')
  const own = (await s.http('POST', '/token', { form: { grant_type: 'client_credentials' }, headers: web })).body.access_token as string
  t.equal((await s.http('PATCH', '/admin/clients/web', { json: { scope: 'read' }, headers: s.admin })).status, 200)

  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${issued.access_token}` } })).status, 403, 'the user token lost admin')
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${own}` } })).status, 403, 'the client token lost admin')
  const refreshed = await s.http('POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: issued.refresh_token }, headers: web })
  t.equal(refreshed.status, 200)
  t.equal(refreshed.body.scope, 'read', 'the refresh returns the narrowed scope')
  const introspected = await s.http('POST', '/introspect', { form: { token: issued.access_token }, headers: web })
  t.equal(introspected.body.scope, 'read', 'introspection reports what the token holds now')
})

t.test('defect 7: a demoted admin cannot use the admin token issued before', async (t) => {
  const s = await setup(t)
  await addUser(s.app, 'boss', 'pw', { scope: 'admin read' })
  const issued = (await s.login('boss', 'pw')).body
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${issued.access_token}` } })).status, 200)
  t.equal((await s.http('PATCH', '/admin/users/boss', { json: { scope: 'read' }, headers: s.admin })).status, 200)
  const create = await s.http('POST', '/admin/users', { json: { username: 'evil', password: 'pw', scope: 'admin' }, headers: { authorization: `Bearer ${issued.access_token}` } })
  t.equal(create.status, 403, 'no new admin from the old token')
  t.equal(create.body.error, 'insufficient_scope')
  t.equal((await s.me(issued.access_token)).status, 200, 'the token still works for what the user still holds')
  const refreshed = await s.http('POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: issued.refresh_token } })
  t.equal(refreshed.body.scope, 'read', 'a refresh after the user lost a scope returns the narrowed scope')
})

t.test('defect 9: a client named after a user\'s sub cannot keep that user\'s tokens alive', async (t) => {
  const s = await setup(t)
  const boss = await addUser(s.app, 'boss', 'pw', { scope: 'admin' })
  const refused = await s.http('POST', '/admin/clients', { json: { client_id: boss.id, grant_types: ['password'] }, headers: s.admin })
  t.equal(refused.status, 400, 'a client id shaped like a user id is refused')
  t.equal((await s.http('POST', '/admin/clients', { json: { client_id: boss.id.toUpperCase(), grant_types: ['password'] }, headers: s.admin })).status, 400, 'in either case')
  // A client registered under that id before the rule existed (written straight to the store).
  await s.app.storage.clients.create({ id: boss.id, secretHash: null, isPublic: true, grantTypes: ['password'], scope: null, redirectUris: [] })
  const token = (await s.login('boss', 'pw', {}, { client_id: boss.id })).body.access_token as string
  t.ok(token)
  t.equal((await s.http('GET', '/admin/users', { headers: { authorization: `Bearer ${token}` } })).status, 200)
  t.equal((await s.http('DELETE', '/admin/users/boss', { headers: s.admin })).status, 204)
  const create = await s.http('POST', '/admin/users', { json: { username: 'evil', password: 'pw', scope: 'admin' }, headers: { authorization: `Bearer ${token}` } })
  t.equal(create.status, 401, 'the deleted admin\'s token is dead')
  const introspected = await s.http('POST', '/introspect', { form: { token }, headers: { authorization: basic('rs', (await addClient(s.app, 'rs', { grantTypes: ['client_credentials'] }))!) } })
  t.same(introspected.body, { active: false })
})

t.test('22.10: a user deleted, then restored from users export under the same sub, does not bring back the old user\'s access tokens', async (t) => {
  const s = await setup(t)
  const alice = await addUser(s.app, 'alice', 'pw', { scope: 'openid profile read' })
  const svc = await addClient(s.app, 'svc', { grantTypes: ['password'] })
  const rs = { authorization: basic('rs', (await addClient(s.app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  // A token without a refresh family (nothing revokes it but the credential version): the password grant through a
  // client without refresh tokens.
  const bare = (await s.login('alice', 'pw', { authorization: basic('svc', svc!) }, { scope: 'openid read' })).body
  t.notOk(bare.refresh_token, 'no family')
  const checks = async (token: string) => ({
    introspect: (await s.http('POST', '/introspect', { form: { token }, headers: rs })).body.active,
    userinfo: (await s.http('GET', '/userinfo', { headers: { authorization: `Bearer ${token}` } })).status,
    me: (await s.me(token)).status
  })
  t.same(await checks(bare.access_token), { introspect: true, userinfo: 200, me: 200 }, 'the token works before')

  // The export the restore comes from: what `gatehouse users export` writes (the same function).
  const exported: string[] = []
  for await (const line of exportUsers(s.app.storage)) if (JSON.parse(line).username === 'alice') exported.push(line)
  t.equal(JSON.parse(exported[0]!).sub, alice.id)
  t.equal((await s.http('DELETE', '/admin/users/alice', { headers: s.admin })).status, 204)
  t.same(await checks(bare.access_token), { introspect: false, userinfo: 401, me: 401 }, 'dead once the user is deleted')

  const restored = await fetch(`${s.url}/admin/users/import`, { method: 'POST', headers: { ...s.admin, 'content-type': 'application/x-ndjson' }, body: exported.join('\n') })
  t.match(await restored.json(), { imported: 1, rejected_count: 0 })
  t.equal((await s.app.storage.users.findById(alice.id))?.username, 'alice', 'restored under the same sub')
  t.same(await checks(bare.access_token), { introspect: false, userinfo: 401, me: 401 }, 'and the old token stays dead after the restore')
  // The resource-server plugin (gatehouse/resource-server) checks signatures and claims only, never a user: like a
  // revoked token, this one passes there until it expires (its documentation says to introspect where that matters).

  const fresh = (await s.login('alice', 'pw', { authorization: basic('svc', svc!) }, { scope: 'openid read' })).body
  t.same(await checks(fresh.access_token), { introspect: true, userinfo: 200, me: 200 }, 'the restored user signs in and gets working tokens')
})

import t from 'tap'
import { addClient, addUser, basic, build, post } from '../support/helper.js'

async function setup (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  await addUser(app, 'alice', 'pw', { scope: 'read write' })
  const c1 = { authorization: basic('c1', (await addClient(app, 'c1', { grantTypes: ['password', 'refresh_token', 'client_credentials'], scope: 'read write' }))!) }
  const c2 = { authorization: basic('c2', (await addClient(app, 'c2', { grantTypes: ['password', 'refresh_token'] }))!) }
  const rs = { authorization: basic('rs', (await addClient(app, 'rs', { grantTypes: ['client_credentials'] }))!) }
  await addClient(app, 'p1', { isPublic: true, grantTypes: ['password', 'refresh_token'] })
  const login = async (auth: Record<string, string> = c1, extra: Record<string, string> = {}) => {
    const res = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', ...extra }, auth)
    t.equal(res.statusCode, 200, 'login')
    return res.json() as { access_token: string, refresh_token: string }
  }
  const introspect = async (token: string, extra: Record<string, string> = {}) => (await post(app, '/introspect', { token, ...extra }, rs)).json()
  return { app, c1, c2, rs, login, introspect }
}

// The cases I1–I3 (introspection) and V1–V3, J8 (revocation) are in test/security/.

t.test('a public client revokes its own tokens with only its client_id', async (t) => {
  const { app, introspect } = await setup(t)
  const login = await post(app, '/token', { grant_type: 'password', username: 'alice', password: 'pw', client_id: 'p1' })
  const { access_token: at } = login.json()
  t.equal((await post(app, '/revoke', { token: at, client_id: 'p1' })).statusCode, 200)
  t.same(await introspect(at), { active: false })
})

t.test('client_credentials tokens introspect with sub = client id, and die with the client', async (t) => {
  const { app, c1, introspect } = await setup(t)
  const { access_token: at } = (await post(app, '/token', { grant_type: 'client_credentials' }, c1)).json()
  t.match(await introspect(at), { active: true, sub: 'c1', client_id: 'c1' })
  await app.storage.clients.delete('c1')
  t.same(await introspect(at), { active: false })
})

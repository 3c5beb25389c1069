import t from 'tap'
import { addClient, addUser, build, manualClock } from '../../support/helper.js'

t.test('scopes_supported lists the scopes users and clients hold, and admin', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await addUser(app, 'alice', 'pw', { scope: 'items:read profile' })
  await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'orders:write' })
  const metadata = async () => (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.same((await metadata()).scopes_supported, ['address', 'admin', 'email', 'items:read', 'openid', 'orders:write', 'phone', 'profile'])
  t.same((await app.inject({ url: '/.well-known/openid-configuration' })).json().scopes_supported, ['address', 'admin', 'email', 'items:read', 'openid', 'orders:write', 'phone', 'profile'])

  await addUser(app, 'bob', 'pw', { scope: 'billing' })
  t.notOk((await metadata()).scopes_supported.includes('billing'), 'cached for a minute')
  clock.advance(61)
  t.ok((await metadata()).scopes_supported.includes('billing'), 'then re-read')
})

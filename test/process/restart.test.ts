import t from 'tap'
import { build, addUser, sharedDatabaseUrl } from '../support/helper.js'
import { bearer, passwordGrant } from '../support/oauth.js'

const PASSWORD = 'correct horse battery staple'

t.test('users, keys and tokens survive a restart on the same database', async (t) => {
  const DATABASE_URL = await sharedDatabaseUrl(t)

  const first = await build(t, { DATABASE_URL })
  const alice = await addUser(first, 'alice', PASSWORD, { scope: 'read' })
  const { access_token: token } = await passwordGrant(t, first, 'alice', PASSWORD)
  const jwksBefore = (await first.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  const kidBefore = first.signingKeys.current().active.kid
  await first.close()

  const second = await build(t, { DATABASE_URL })
  t.equal(second.signingKeys.current().active.kid, kidBefore, 'the same key signs after the restart')
  const jwksAfter = (await second.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
  t.same(jwksAfter, jwksBefore, 'the JWKS is the same (no new key was made)')
  t.equal(jwksAfter.keys.length, 2, 'one key per algorithm')

  const me = await second.inject({ method: 'GET', url: '/users/me', headers: bearer(token) })
  t.equal(me.statusCode, 200, 'the token issued before the restart still verifies')
  t.equal(me.json().sub, alice.id)

  const fresh = await passwordGrant(t, second, 'alice', PASSWORD)
  t.equal((await second.inject({ method: 'GET', url: '/users/me', headers: bearer(fresh.access_token) })).statusCode, 200, 'the user can still log in')
  t.equal(await second.users.count(), 1)
})

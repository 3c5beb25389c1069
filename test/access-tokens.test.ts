import t from 'tap'
import { AccessTokens, CLOCK_LEEWAY_SECONDS, InvalidAccessToken } from '../lib/oauth/access-tokens.js'
import { generateSigningKey, loadKey } from '../lib/keys.js'

// AccessTokens remembers verified tokens by their text; a remembered token must stop verifying exactly
// when a fresh verification would refuse it.

const issuer = 'http://localhost:3000'
const setup = () => {
  const tokens = new AccessTokens({ issuer, audience: issuer, ttl: 60 })
  const key = loadKey(generateSigningKey(0, 0))
  tokens.useKeys({ active: key, published: [key] })
  return { tokens, key }
}
/** True when verify throws InvalidAccessToken (the only error it may throw). */
const refused = (tokens: AccessTokens, token: string): boolean => {
  try {
    tokens.verify(token)
    return false
  } catch (err) {
    return err instanceof InvalidAccessToken
  }
}
const issue = (tokens: AccessTokens) =>
  tokens.issue({ sub: 'u1', clientId: 'default', scope: 'items:read' }, Math.floor(Date.now() / 1000))

t.test('a token verifies again with the same claims', async (t) => {
  const { tokens } = setup()
  const { token, claims } = issue(tokens)
  t.same(tokens.verify(token), claims)
  t.same(tokens.verify(token), claims)
  t.ok(refused(tokens, token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')), 'a changed signature does not hit')
})

t.test('a remembered token is refused once its exp (plus the leeway) has passed', async (t) => {
  const { tokens } = setup()
  const { token, claims } = issue(tokens)
  tokens.verify(token)
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  Date.now = () => (claims.exp + CLOCK_LEEWAY_SECONDS) * 1000
  t.same(tokens.verify(token), claims, 'still valid at the last leeway millisecond')
  Date.now = () => (claims.exp + CLOCK_LEEWAY_SECONDS) * 1000 + 1
  t.ok(refused(tokens, token), 'refused one millisecond later')
})

t.test('a remembered token is refused once its key is no longer published', async (t) => {
  const { tokens, key } = setup()
  const { token } = issue(tokens)
  tokens.verify(token)
  const next = loadKey(generateSigningKey(0, 0))
  tokens.useKeys({ active: next, published: [next, key] })
  t.ok(tokens.verify(token), 'still published: verifies')
  tokens.useKeys({ active: next, published: [next] })
  t.ok(refused(tokens, token), 'retired key dropped: refused')
})

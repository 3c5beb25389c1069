import t from 'tap'
import { AccessTokens, CLOCK_LEEWAY_SECONDS, InvalidAccessToken } from '../../../lib/oauth/access-tokens.js'
import { generateSigningKey, loadKey, type SignerKey } from '../../../lib/keys/signing-keys.js'
import { manualClock } from '../../support/helper.js'

// AccessTokens remembers verified tokens by their text; a remembered token must stop verifying exactly
// when a fresh verification would refuse it.

const issuer = 'http://localhost:3000'
let seq = 0
const newKey = () => loadKey({ ...generateSigningKey('ES256', 0, 0), seq: ++seq }) as SignerKey
const setup = () => {
  const clock = manualClock()
  const tokens = new AccessTokens({ issuer, audience: issuer, ttl: 60, clock })
  const key = newKey()
  tokens.useKeys({ active: key, published: [key] })
  return { tokens, key, clock }
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
const issue = async (tokens: AccessTokens, now = Math.floor(Date.now() / 1000)) =>
  tokens.issue({ sub: 'u1', subKind: 'user', clientId: 'default', scope: 'items:read' }, now)

t.test('a token verifies again with the same claims', async (t) => {
  const { tokens } = setup()
  const { token, claims } = await issue(tokens)
  t.same(tokens.verify(token), claims)
  t.same(tokens.verify(token), claims)
  t.ok(refused(tokens, token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')), 'a changed signature does not hit')
})

t.test('a remembered token is refused once its exp (plus the leeway) has passed', async (t) => {
  const { tokens, clock } = setup()
  const { token, claims } = await issue(tokens, clock.now())
  tokens.verify(token)
  clock.advance(claims.exp + CLOCK_LEEWAY_SECONDS - clock.now())
  t.same(tokens.verify(token), claims, 'still valid at the last leeway second')
  clock.advance(0.001)
  t.ok(refused(tokens, token), 'refused one millisecond later')
})

t.test('a remembered token is refused once its key is no longer published', async (t) => {
  const { tokens, key } = setup()
  const { token } = await issue(tokens)
  tokens.verify(token)
  const next = newKey()
  tokens.useKeys({ active: next, published: [next, key] })
  t.ok(tokens.verify(token), 'still published: verifies')
  tokens.useKeys({ active: next, published: [next] })
  t.ok(refused(tokens, token), 'retired key dropped: refused')
})

t.test('expiry is judged by the injected clock, remembered or not', async (t) => {
  const { tokens, clock } = setup()
  const { token } = await issue(tokens, clock.now() - 120)
  t.ok(refused(tokens, token), 'issued 120 s ago with a 60 s TTL: refused at first sight')
  const fresh = await issue(tokens, clock.now())
  clock.advance(60 + CLOCK_LEEWAY_SECONDS + 1)
  t.ok(refused(tokens, fresh.token), 'a token never seen before is refused once the clock has moved past exp')
})

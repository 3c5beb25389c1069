import t, { type Test } from 'tap'
import { verifyClientAssertion, type AssertionContext } from '../../../lib/oauth/client-assertion.js'
import { ClientKeys } from '../../../lib/oauth/client-keys.js'
import { DEFAULT_CLIENT } from '../../../lib/oauth/client-auth.js'
import { OAuthError } from '../../../lib/errors.js'
import type { Client } from '../../../lib/stores/types.js'
import { DocumentFetchError } from '../../../lib/upstream/document-fetch.js'
import { clientAssertion, clientKey, hmacJwt, jwksOf, unsignedJwt } from '../../support/client-keys.js'
import { manualClock } from '../../support/helper.js'

const ISSUER = 'https://id.example'
const TOKEN = `${ISSUER}/token`

function jtiStore () {
  const seen = new Set<string>()
  return { use: async (clientId: string, jti: string) => { const key = `${clientId}\n${jti}`; if (seen.has(key)) return false; seen.add(key); return true } }
}

async function refusal (t: Test, promise: Promise<unknown>, why: RegExp, label: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof OAuthError && err.error === 'invalid_client' && err.statusCode === 401, `${label}: 401 invalid_client`)
  t.match((err as Error | undefined)?.message, why, `${label}: says why`)
}

t.test('a good assertion is accepted once; every K3 variant and each claim rule is refused', async (t) => {
  const clock = manualClock(1_800_000_000)
  const key = await clientKey('ES256')
  const client: Client = { ...DEFAULT_CLIENT, id: 'svc', isPublic: false, jwks: jwksOf(key), tokenEndpointAuthMethod: 'private_key_jwt' }
  const context: AssertionContext = { keys: new ClientKeys({ clock, fetch: async () => { throw new Error('no fetch') } }), jtis: jtiStore(), audiences: [ISSUER, TOKEN], now: clock.now() }
  const sign = (over: Parameters<typeof clientAssertion>[3] = {}) => clientAssertion(key, 'svc', TOKEN, { now: clock.now(), ...over })
  const good = await sign()
  await verifyClientAssertion(good, client, context)
  t.pass('accepted')
  await refusal(t, verifyClientAssertion(good, client, context), /jti was used before/, 'replayed')
  await verifyClientAssertion(await sign({ claims: { aud: ISSUER } }), client, context)
  t.pass('aud = the issuer is accepted')
  await verifyClientAssertion(await sign({ claims: { aud: ['https://other.example', TOKEN] } }), client, context)
  t.pass('aud a list naming the token endpoint is accepted')
  const other = await clientKey('ES256', key.kid)
  const cases: Array<[Promise<string> | string, RegExp, string]> = [
    [sign({ claims: { aud: 'https://other.example/token' } }), /aud does not name this server/, 'aud = another server'],
    [sign({ claims: { exp: clock.now() + 3600 } }), /more than 300 seconds ahead/, 'exp 1 h ahead'],
    [clientAssertion(other, 'svc', TOKEN, { now: clock.now() }), /signature does not verify/, 'signed by a key not in the JWKS (same kid)'],
    [clientAssertion(await clientKey('ES256'), 'svc', TOKEN, { now: clock.now() }), /no key of the client's JWK Set matches/, 'signed by a key not in the JWKS (unknown kid)'],
    [unsignedJwt({ iss: 'svc', sub: 'svc', aud: TOKEN, exp: clock.now() + 60, jti: 'n1' }), /alg "none" is not accepted/, 'alg none'],
    [hmacJwt({ iss: 'svc', sub: 'svc', aud: TOKEN, exp: clock.now() + 60, jti: 'h1' }, new TextEncoder().encode(JSON.stringify(key.publicJwk)), key.kid), /alg "HS256" is not accepted/, 'HS256 keyed with the public key'],
    [sign({ claims: { exp: clock.now() - 30 } }), /expired/, 'expired'],
    [sign({ claims: { exp: undefined } }), /exp claim is missing/, 'no exp'],
    [sign({ claims: { jti: undefined } }), /jti claim is missing/, 'no jti'],
    [sign({ claims: { iss: 'other' } }), /iss must be the client id/, 'iss another'],
    [sign({ claims: { sub: 'other' } }), /sub must be the client id/, 'sub another'],
    [sign({ claims: { nbf: clock.now() + 120 } }), /not valid yet/, 'nbf ahead'],
    [sign({ claims: { iat: clock.now() + 120 } }), /iat is in the future/, 'iat ahead'],
    ['a.b', /not a signed JWT/, 'not a JWS']
  ]
  for (const [assertion, why, label] of cases) await refusal(t, verifyClientAssertion(await assertion, client, context), why, label)
  await refusal(t, verifyClientAssertion(await sign(), { ...client, jwks: null }, context), /no keys registered/, 'a client without keys')
  await refusal(t, verifyClientAssertion(await sign(), { ...client, tokenEndpointAuthMethod: 'client_secret_basic' }, context), /registered to authenticate with client_secret_basic/, 'a client registered with another method')
})

t.test('jwks_uri: fetched once and cached; an unknown kid refetches at most every 10 s; a failed fetch is invalid_client', async (t) => {
  const clock = manualClock(1_800_000_000)
  const first = await clientKey('ES256')
  const second = await clientKey('EdDSA')
  let served = jwksOf(first)
  let fetches = 0
  let down = false
  const keys = new ClientKeys({
    clock,
    fetch: async () => {
      fetches++
      if (down) throw new DocumentFetchError('it could not be fetched (ECONNREFUSED)')
      return { headers: {}, body: Buffer.from(JSON.stringify(served)) }
    }
  })
  const client: Client = { ...DEFAULT_CLIENT, id: 'svc', isPublic: false, jwksUri: 'https://svc.example/jwks' }
  const context = (): AssertionContext => ({ keys, jtis: jtiStore(), audiences: [TOKEN], now: clock.now() })
  const sign = (key = first) => clientAssertion(key, 'svc', TOKEN, { now: clock.now() })
  await verifyClientAssertion(await sign(), client, context())
  await verifyClientAssertion(await sign(), client, context())
  t.equal(fetches, 1, 'the set is fetched once, then cached')
  served = jwksOf(first, second)
  await refusal(t, verifyClientAssertion(await sign(second), client, context()), /no key of the client's JWK Set matches/, 'a new kid within 10 s of the last fetch')
  t.equal(fetches, 1, 'no refetch within 10 s')
  clock.advance(11)
  await verifyClientAssertion(await sign(second), client, context())
  t.equal(fetches, 2, 'rotation: the unknown kid refetched the set once')
  await refusal(t, verifyClientAssertion(await sign(await clientKey()), client, context()), /no key/, 'another unknown kid at once')
  t.equal(fetches, 2, 'not refetched again within 10 s')
  clock.advance(400)
  down = true
  await refusal(t, verifyClientAssertion(await sign(), client, context()), /keys cannot be had: its jwks_uri failed: it could not be fetched/, 'jwks_uri down')
  await refusal(t, verifyClientAssertion(await sign(), client, context()), /failed moments ago/, 'not refetched at once')
  t.equal(fetches, 3)
  served = { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } as never
  down = false
  clock.advance(11)
  await refusal(t, verifyClientAssertion(await sign(), client, context()), /no usable JWK Set: .*symmetric/, 'a set with a secret key')
})

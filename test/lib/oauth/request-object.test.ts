import t from 'tap'
import { SignJWT } from 'jose'
import { InvalidRequestObject, resolveRequestObject, type RequestObjectDeps } from '../../../lib/oauth/request-object.js'
import { ClientKeys } from '../../../lib/oauth/client-keys.js'
import { DEFAULT_CLIENT } from '../../../lib/oauth/client-auth.js'
import type { Client } from '../../../lib/stores/types.js'
import { clientKey, hmacJwt, jwksOf, unsignedJwt, type ClientKey } from '../../support/client-keys.js'
import { manualClock } from '../../support/helper.js'

const ISSUER = 'https://id.example'

t.test('a signed request object: its parameters are the request (RFC 9101 §5); each refusal says why', async (t) => {
  const clock = manualClock(1_800_000_000)
  const key = await clientKey('PS256')
  const client: Client = { ...DEFAULT_CLIENT, id: 'web', isPublic: false, grantTypes: ['authorization_code'], redirectUris: ['https://web.example/cb'], jwks: jwksOf(key) }
  const deps: RequestObjectDeps = { keys: new ClientKeys({ clock, fetch: async () => { throw new Error('no fetch') } }), issuer: ISSUER, now: clock.now() }
  const now = clock.now()
  const base = { iss: 'web', aud: ISSUER, exp: now + 300, nbf: now, client_id: 'web', response_type: 'code', redirect_uri: 'https://web.example/cb', scope: 'openid', state: 'in-object', max_age: 60, claims: { id_token: { email: null } }, resource: ['https://api.example'] }
  const sign = (claims: Record<string, unknown> = {}, signer: ClientKey = key, header: Record<string, unknown> = {}) => {
    const all: Record<string, unknown> = { ...base, ...claims }
    for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name]
    return new SignJWT(all).setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header }).sign(signer.privateKey)
  }

  const query = { client_id: 'web', response_type: 'code', scope: 'openid profile', state: 'in-query', request: await sign() }
  t.same(await resolveRequestObject(query, client, deps), {
    client_id: 'web', response_type: 'code', redirect_uri: 'https://web.example/cb', scope: 'openid', state: 'in-object', max_age: '60', claims: '{"id_token":{"email":null}}', resource: 'https://api.example'
  }, 'the object\'s parameters only: the query\'s scope and state are ignored')
  const plain = { client_id: 'web', response_type: 'code' }
  t.equal(await resolveRequestObject(plain, client, deps), plain, 'no request: the query as it is')
  const keyless = { ...query }
  t.equal(await resolveRequestObject(keyless, { ...client, jwks: null }, deps), keyless, 'a client without keys: unchanged (request_not_supported follows)')

  const refused: Array<[string | Promise<string>, RegExp, string, Record<string, unknown>?]> = [
    [unsignedJwt(base), /alg "none" is not accepted/, 'alg none'],
    [hmacJwt(base, new TextEncoder().encode('secret')), /alg "HS256" is not accepted/, 'HS256'],
    [sign({}, await clientKey('PS256', key.kid)), /signature does not verify/, 'another key'],
    [sign({ aud: 'https://other.example' }), /aud must be the issuer/, 'aud another server'],
    [sign({ iss: 'other' }), /iss must be the client id/, 'iss another'],
    [sign({ exp: undefined }), /exp claim is missing/, 'no exp'],
    [sign({ exp: now - 60 }), /expired/, 'expired'],
    [sign({ nbf: now + 120 }), /not valid yet/, 'nbf ahead'],
    [sign({ nbf: now - 3700, exp: now + 60 }), /nbf is more than 60 minutes ago/, 'nbf 61 min old'],
    [sign({ exp: now + 7200 }), /exp is more than 60 minutes after nbf/, 'exp 2 h after nbf'],
    [sign({ client_id: 'other' }), /client_id must be the client_id of the request/, 'client_id another'],
    [sign({ client_id: undefined }), /client_id must be/, 'no client_id'],
    [sign({ request_uri: 'https://x' }), /cannot hold request or request_uri/, 'nested request_uri'],
    [sign({ response_type: 'token' }), /response_type of the request must be the request object's/, 'response_type differs from the query\'s'],
    [sign({ scope: 5 as unknown as string, state: { a: 1 } }), /state is not a string/, 'a parameter that is an object'],
    ['eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', /encrypted request objects \(JWE\) are not supported/, 'JWE'],
    ['abc', /not a signed JWT/, 'not a JWT'],
    [sign(), /request and request_uri cannot both/, 'with request_uri', { request_uri: 'urn:x' }]
  ]
  for (const [jwt, why, label, extra] of refused) {
    const err = await resolveRequestObject({ ...query, request: await jwt, ...extra }, client, deps).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof InvalidRequestObject, `${label}: refused`)
    t.match((err as Error | undefined)?.message, why, `${label}: says why`)
  }
})

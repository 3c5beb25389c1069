import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { actorClaim, checkSubjectIsUser, checkTokenTypes, delegationDepth, exchangeScope, exchangeTarget, MAX_DELEGATION_DEPTH, mayExchange } from '../../../lib/oauth/token-exchange.js'
import type { AccessTokenClaims, ActorClaim } from '../../../lib/oauth/access-token-rules.js'
import { ACCESS_TOKEN_TYPE } from '../../../schemas/vocabulary.js'

// The token exchange rules (lib/oauth/token-exchange.ts) alone; through the app: test/routes/token/token-exchange.test.ts.

/** The OAuth error code `fn` throws. */
function code (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof OAuthError) return err.error
    throw err
  }
  return 'none'
}

t.test('checkTokenTypes: access tokens in and out only; an actor token comes with its type', async (t) => {
  const AT = ACCESS_TOKEN_TYPE
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT })), 'none')
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT, actor_token: 'x', actor_token_type: AT, requested_token_type: AT })), 'none')
  t.equal(code(() => checkTokenTypes({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' })), 'invalid_request', 'an ID token is not exchanged')
  t.equal(code(() => checkTokenTypes({})), 'invalid_request', 'no subject_token_type')
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT, actor_token: 'x' })), 'invalid_request', 'actor_token without its type (§2.1)')
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT, actor_token_type: AT })), 'invalid_request', 'a type without an actor token')
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT, actor_token: 'x', actor_token_type: 'urn:ietf:params:oauth:token-type:jwt' })), 'invalid_request')
  t.equal(code(() => checkTokenTypes({ subject_token_type: AT, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' })), 'invalid_request', 'no refresh token is issued')
})

t.test('exchangeTarget: one of the client\'s targets, by resource or audience; none named and one target: that one', async (t) => {
  const A = 'https://a.test'
  const B = 'https://b.test'
  t.equal(exchangeTarget(A, undefined, [A, B]), A)
  t.equal(exchangeTarget(undefined, B, [A, B]), B, 'audience names a resource the same way')
  t.equal(exchangeTarget(A, A, [A, B]), A, 'both, the same')
  t.equal(exchangeTarget(undefined, undefined, [B]), B, 'none named, one target')
  t.equal(code(() => exchangeTarget(A, B, [A, B])), 'invalid_target', 'two targets')
  t.equal(code(() => exchangeTarget(undefined, undefined, [A, B])), 'invalid_target', 'none named among several')
  t.equal(code(() => exchangeTarget(undefined, undefined, [])), 'invalid_target', 'a client with no targets (the default)')
  t.equal(code(() => exchangeTarget(A, undefined, [])), 'invalid_target')
  t.equal(code(() => exchangeTarget('https://c.test', undefined, [A, B])), 'invalid_target', 'not one of its targets')
})

t.test('mayExchange: a token issued to the client, or for a resource it acts for; nothing else (confused deputy)', async (t) => {
  const api = { id: 'orders-api', exchangeSources: ['https://orders.test'] }
  t.ok(mayExchange({ aud: 'https://orders.test', client_id: 'web' }, api), 'a token for its resource, from another client')
  t.ok(mayExchange({ aud: 'http://gatehouse.test', client_id: 'orders-api' }, api), 'its own token')
  t.notOk(mayExchange({ aud: 'https://billing.test', client_id: 'web' }, api), 'a token for another resource')
  t.notOk(mayExchange({ aud: 'http://gatehouse.test', client_id: 'web' }, api), 'another client\'s token for Gatehouse')
  t.notOk(mayExchange({ aud: 'https://orders.test', client_id: 'web' }, { id: 'other', exchangeSources: [] }), 'a client acting for no resource')
})

t.test('actorClaim: the actor, with the previous chain nested; bounded at MAX_DELEGATION_DEPTH', async (t) => {
  t.same(actorClaim('svc', undefined), { sub: 'svc' })
  t.same(actorClaim('b', { sub: 'a' }), { sub: 'b', act: { sub: 'a' } }, 'RFC 8693 §4.1: the current actor outermost')
  let chain: ActorClaim | undefined
  for (let i = 0; i < MAX_DELEGATION_DEPTH; i++) chain = actorClaim(`a${i}`, chain)
  t.equal(delegationDepth(chain), MAX_DELEGATION_DEPTH)
  t.equal(code(() => actorClaim('one-more', chain)), 'invalid_request')
  t.equal(delegationDepth(undefined), 0)
})

t.test('exchangeScope: never wider than the subject token, within what the target defines and the client may ask for', async (t) => {
  const target = { scope: 'orders:read shipping:write' }
  t.equal(exchangeScope(undefined, 'orders:read orders:write', target, { scope: null }), 'orders:read', 'what both hold')
  t.equal(exchangeScope('orders:read', 'orders:read orders:write', target, { scope: null }), 'orders:read')
  t.equal(code(() => exchangeScope('shipping:write', 'orders:read', target, { scope: null })), 'invalid_scope', 'the target defines it, the subject token does not hold it')
  t.equal(code(() => exchangeScope('orders:write', 'orders:read orders:write', target, { scope: null })), 'invalid_scope', 'the subject holds it, the target does not define it')
  t.equal(exchangeScope(undefined, 'orders:read shipping:write', target, { scope: 'shipping:write' }), 'shipping:write', 'a client with a scope list: only those')
  t.equal(exchangeScope(undefined, undefined, target, { scope: null }), '', 'a subject token without scopes gives none')
})

t.test('checkSubjectIsUser: a client\'s own token is not exchanged', async (t) => {
  const claims = { iss: 'i', sub: 'svc', aud: 'a', exp: 1, iat: 1, jti: 'j', client_id: 'svc', sub_kind: 'client' } satisfies AccessTokenClaims
  t.equal(code(() => checkSubjectIsUser(claims)), 'invalid_request')
  t.equal(code(() => checkSubjectIsUser({ ...claims, sub: '0b7e4c1a-5f0e-4d8e-9a43-2c1f6f1d9a10', sub_kind: 'user' })), 'none')
})

import t from 'tap'
import { AuthorizationError } from '../../../lib/errors.js'
import {
  authorizePath, checkAuthorizationRequest, grantableScopes, queryOf, redirectUriMatches, responseTo, safeReturnTo, verifierMatches, type Query
} from '../../../lib/oauth/authorize.js'
import type { Client } from '../../../lib/stores/types.js'
import { clientRecord } from '../../support/records.js'

// The authorization request's rules (lib/oauth/authorize.ts) without an app. The same rules through the pages:
// test/security/browser.test.ts (series A).

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
const target = (over: Partial<Client> = {}) => ({ client: clientRecord(over), redirectUri: 'https://app.test/cb', state: 'st' })
const good: Query = { response_type: 'code', code_challenge: CHALLENGE, code_challenge_method: 'S256' }

t.test('redirectUriMatches: exact match, byte for byte', async (t) => {
  const registered = ['https://app.test/cb', 'https://app.test/cb?tenant=a']
  t.ok(redirectUriMatches(registered, 'https://app.test/cb'))
  t.ok(redirectUriMatches(registered, 'https://app.test/cb?tenant=a'), 'a registered query')
  for (const presented of ['https://app.test/cb/', 'https://APP.test/cb', 'https://app.test:443/cb', 'https://app.test/cb?tenant=b', 'https://app.test/cb?tenant=a&x=1',
    'https://app.test/cb#f', 'https://app.test/CB', 'https://app.test/cb/../cb', 'https://app.test/c%62', 'http://app.test/cb', 'https://app.test.evil/cb', 'not a url']) {
    t.notOk(redirectUriMatches(registered, presented), presented)
  }
})

t.test('redirectUriMatches: a loopback IP literal on any port (RFC 8252 §7.3), nothing else about it may differ', async (t) => {
  const registered = ['http://127.0.0.1/cb', 'http://[::1]/cb?x=1']
  t.ok(redirectUriMatches(registered, 'http://127.0.0.1:51234/cb'))
  t.ok(redirectUriMatches(registered, 'http://127.0.0.1/cb'), 'no port')
  t.ok(redirectUriMatches(registered, 'http://[::1]:8080/cb?x=1'), 'IPv6')
  t.notOk(redirectUriMatches(registered, 'http://127.0.0.1:51234/other'), 'another path')
  t.notOk(redirectUriMatches(registered, 'http://127.0.0.1:51234/cb?x=1'), 'another query')
  t.notOk(redirectUriMatches(registered, 'http://[::1]:8080/cb?x=2'), 'another query on IPv6')
  t.notOk(redirectUriMatches(registered, 'https://127.0.0.1:51234/cb'), 'https is not the registered scheme')
  t.notOk(redirectUriMatches(['http://localhost/cb'], 'http://localhost:51234/cb'), 'localhost is not an IP literal: no port leniency')
  t.notOk(redirectUriMatches(['https://app.test/cb'], 'https://app.test:8443/cb'), 'not for other hosts')
  t.notOk(redirectUriMatches(registered, 'http://127.0.0.2:51234/cb'), 'another loopback address')
})

t.test('checkAuthorizationRequest: a good request', async (t) => {
  const authz = checkAuthorizationRequest({ ...good, scope: 'openid items:read', nonce: 'n', prompt: 'login consent', max_age: '60', login_hint: 'a'.repeat(200) }, target())
  t.match(authz, { redirectUri: 'https://app.test/cb', state: 'st', scopes: ['openid', 'items:read'], codeChallenge: CHALLENGE, nonce: 'n', maxAge: 60 })
  t.same([...authz.prompt], ['login', 'consent'])
  t.equal(authz.loginHint?.length, 128, 'login_hint cut to 128 characters')
  t.equal(checkAuthorizationRequest(good, target()).scopes, undefined, 'no scope: undefined (everything allowed)')
  t.ok(checkAuthorizationRequest({ ...good, response_mode: 'query', unknown: 'x' }, target()), 'response_mode=query and unknown parameters are fine')
})

t.test('checkAuthorizationRequest: each refusal goes back to the client with its error', async (t) => {
  const refusals: Array<[string, Query, string, RegExp, Partial<Client>?]> = [
    ['a repeated parameter', { ...good, scope: ['a', 'b'] }, 'invalid_request', /scope is repeated/],
    ['no response_type', { ...good, response_type: undefined }, 'invalid_request', /missing parameter: response_type/],
    ['response_type=token', { ...good, response_type: 'token' }, 'unsupported_response_type', /only response_type=code/],
    ['response_mode=fragment', { ...good, response_mode: 'fragment' }, 'invalid_request', /response_mode must be one of query, form_post/],
    ['no code_challenge', { ...good, code_challenge: undefined }, 'invalid_request', /code challenge required/],
    ['plain', { ...good, code_challenge_method: 'plain' }, 'invalid_request', /must be S256/],
    ['no method', { ...good, code_challenge_method: undefined }, 'invalid_request', /must be S256/],
    ['a 42-character challenge', { ...good, code_challenge: CHALLENGE.slice(0, 42) }, 'invalid_request', /not a S256 challenge/],
    ['a malformed scope', { ...good, scope: 'a"b' }, 'invalid_scope', /malformed/],
    ['a scope outside the client\'s list', { ...good, scope: 'openid items:write' }, 'invalid_scope', /scope not allowed: items:write/, { scope: 'items:read' }],
    ['an unknown prompt', { ...good, prompt: 'bogus' }, 'invalid_request', /unknown prompt value: bogus/],
    ['prompt=none with another', { ...good, prompt: 'none login' }, 'invalid_request', /cannot be combined/],
    ['max_age not a number', { ...good, max_age: '-1' }, 'invalid_request', /max_age must be a number/],
    ['a nonce of 513 characters', { ...good, nonce: 'n'.repeat(513) }, 'invalid_request', /nonce is longer than 512/]
  ]
  for (const [label, query, error, description, over] of refusals) {
    try {
      checkAuthorizationRequest(query, target(over))
      t.fail(`${label}: accepted`)
    } catch (err) {
      t.ok(err instanceof AuthorizationError, `${label}: an AuthorizationError`)
      t.match(err, { error, message: description, redirectUri: 'https://app.test/cb', state: 'st' }, label)
    }
  }
})

/** What checkAuthorizationRequest throws for `query`, as the client would get it. */
function refusal (query: Query, over: Partial<Client> = {}, readHint?: Parameters<typeof checkAuthorizationRequest>[2]) {
  try {
    checkAuthorizationRequest(query, target(over), readHint)
  } catch (err) {
    if (err instanceof AuthorizationError) return { error: err.error, description: err.message, responseMode: err.responseMode, state: err.state }
    throw err
  }
  throw new Error('accepted')
}

t.test('response_mode: query (the default) or form_post; every later refusal travels that way; another value is invalid_request by query', async (t) => {
  t.equal(checkAuthorizationRequest(good, target()).responseMode, 'query')
  t.equal(checkAuthorizationRequest({ ...good, response_mode: 'query' }, target()).responseMode, 'query')
  t.equal(checkAuthorizationRequest({ ...good, response_mode: 'form_post' }, target()).responseMode, 'form_post')
  t.match(refusal({ ...good, response_mode: 'form_post', response_type: 'token' }), { error: 'unsupported_response_type', responseMode: 'form_post', state: 'st' })
  t.match(refusal({ ...good, response_mode: 'form_post', code_challenge: undefined }), { error: 'invalid_request', responseMode: 'form_post' })
  for (const mode of ['fragment', 'jwt', 'form_post.jwt', 'web_message', 'FORM_POST']) {
    t.same(refusal({ ...good, response_mode: mode }), { error: 'invalid_request', description: 'response_mode must be one of query, form_post', responseMode: 'query', state: 'st' }, mode)
  }
  const native = { client: clientRecord({ redirectUris: ['com.example.app:/cb'] }), redirectUri: 'com.example.app:/cb', state: 'st' }
  t.throws(() => checkAuthorizationRequest({ ...good, response_mode: 'form_post' }, native), { error: 'invalid_request', message: /needs an http or https redirect_uri/, responseMode: 'query' }, 'no form can post to an app\'s private scheme')
})

t.test('responseTo: a redirect with the parameters in the query, or the fields of a form posting to the redirect URI as registered', async (t) => {
  const params = { code: 'c', state: 'a&b "<x>"', iss: 'https://issuer.test', error: undefined }
  t.same(responseTo({ redirectUri: 'https://app.test/cb?tenant=a', state: undefined, responseMode: 'query' }, params),
    { mode: 'query', location: 'https://app.test/cb?tenant=a&code=c&state=a%26b+%22%3Cx%3E%22&iss=https%3A%2F%2Fissuer.test' })
  t.same(responseTo({ redirectUri: 'https://app.test/cb?tenant=a', state: undefined, responseMode: 'form_post' }, params),
    { mode: 'form_post', action: 'https://app.test/cb?tenant=a', fields: [['code', 'c'], ['state', 'a&b "<x>"'], ['iss', 'https://issuer.test']] }, 'unset ones left out, values as they are (the page escapes them)')
})

t.test('request and request_uri: refused back to the client before any other check, never ignored', async (t) => {
  // What an RP putting everything in an unsigned request object sends (OIDC Core §6.1): no state, no PKCE outside.
  const payload = Buffer.from(JSON.stringify({ response_type: 'code', client_id: 'web', state: 'inside', response_mode: 'form_post' })).toString('base64url')
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`
  const bare = { response_type: 'code', scope: 'openid', client_id: 'web', redirect_uri: 'https://app.test/cb' }
  t.same(refusal({ ...bare, request: unsigned }), { error: 'request_not_supported', description: 'request objects (the request parameter) are not supported', responseMode: 'form_post', state: 'st' },
    'no PKCE outside the object: still request_not_supported, in the response mode the object asks for')
  t.match(refusal({ ...bare, request: unsigned, response_mode: 'query' }), { error: 'request_not_supported', responseMode: 'query' }, 'a response_mode outside the object wins')
  for (const junk of ['not a jwt', 'a.b.c', `x.${Buffer.from('"form_post"').toString('base64url')}.y`, `x.${Buffer.from('{"response_mode":"fragment"}').toString('base64url')}.`]) {
    t.match(refusal({ ...bare, request: junk }), { error: 'request_not_supported', responseMode: 'query' }, junk)
  }
  t.same(refusal({ ...bare, request_uri: 'https://app.test/request.jwt' }), { error: 'request_uri_not_supported', description: 'request_uri is not supported', responseMode: 'query', state: 'st' })
  t.match(refusal({ ...bare, request_uri: 'urn:ietf:params:oauth:request_uri:abc', response_mode: 'form_post' }), { error: 'request_uri_not_supported', responseMode: 'form_post' })
  t.match(refusal({ ...good, request: ['a', 'b'] }), { error: 'invalid_request', description: 'parameter request is repeated' })
  t.equal(checkAuthorizationRequest({ ...good, request: '', request_uri: '' }, target()).responseMode, 'query', 'sent without a value: omitted (RFC 6749 §3.1)')
})

t.test('display, ui_locales, claims_locales, acr_values and unknown parameters are accepted; a display OIDC does not define is refused', async (t) => {
  for (const display of ['page', 'popup', 'touch', 'wap']) t.ok(checkAuthorizationRequest({ ...good, display }, target()), display)
  t.ok(checkAuthorizationRequest({ ...good, ui_locales: 'se fr-CA', claims_locales: 'se', acr_values: '1 2 urn:mace:incommon:iap:silver', frobnicate: 'x' }, target()))
  for (const display of ['bogus', 'PAGE', 'page popup']) {
    t.match(refusal({ ...good, display }), { error: 'invalid_request', description: 'display must be one of page, popup, touch, wap' }, display)
  }
  for (const name of ['display', 'ui_locales', 'claims_locales', 'acr_values', 'id_token_hint', 'login_hint']) {
    t.match(refusal({ ...good, [name]: ['page', 'page'] }), { error: 'invalid_request', description: `parameter ${name} is repeated` }, `${name} twice`)
  }
})

t.test('id_token_hint: an ID token this server issued to this client names the expected user; anything else is invalid_request', async (t) => {
  const read = (token: string) => token === 'good' ? { sub: 'u-1', aud: 'web' } : token === 'other-client' ? { sub: 'u-1', aud: 'spa' } : undefined
  t.same(checkAuthorizationRequest({ ...good, id_token_hint: 'good' }, target(), read).idTokenHint, { sub: 'u-1' })
  t.equal(checkAuthorizationRequest(good, target(), read).idTokenHint, undefined, 'none sent')
  t.same(refusal({ ...good, id_token_hint: 'forged' }, {}, read), { error: 'invalid_request', description: 'id_token_hint is not an ID token this server issued', responseMode: 'query', state: 'st' })
  t.match(refusal({ ...good, id_token_hint: 'other-client' }, {}, read), { error: 'invalid_request', description: 'id_token_hint was issued to another client' })
  t.match(refusal({ ...good, id_token_hint: 'good' }), { error: 'invalid_request' }, 'no key to check it with: refused, not trusted')
  let asked = 0
  t.match(refusal({ ...good, id_token_hint: 'x'.repeat(8193) }, {}, () => { asked++; return { sub: 'u-1', aud: 'web' } }), { error: 'invalid_request' }, 'longer than any ID token we sign')
  t.equal(asked, 0, 'refused before any signature is checked')
})

t.test('PKCE per client: optional only for a confidential client registered so; a challenge sent is checked all the same', async (t) => {
  const optional = { pkce: 'optional' as const }
  const noPkce = { ...good, code_challenge: undefined, code_challenge_method: undefined }
  t.equal(checkAuthorizationRequest(noPkce, target(optional)).codeChallenge, null, 'pkce optional, none sent: a code bound to no challenge')
  t.equal(checkAuthorizationRequest(good, target(optional)).codeChallenge, CHALLENGE, 'pkce optional, one sent: bound to it')
  const refusals: Array<[string, Query, Partial<Client>, RegExp]> = [
    ['required (the default), none sent', noPkce, {}, /code challenge required/],
    ['a public client, whatever its row says', noPkce, { isPublic: true, pkce: 'optional' }, /code challenge required/],
    ['optional, a method without a challenge', { ...noPkce, code_challenge_method: 'S256' }, optional, /without a code_challenge/],
    ['optional, plain', { ...good, code_challenge_method: 'plain' }, optional, /must be S256/],
    ['optional, no method', { ...good, code_challenge_method: undefined }, optional, /must be S256/],
    ['optional, a malformed challenge', { ...good, code_challenge: CHALLENGE.slice(0, 42) }, optional, /not a S256 challenge/]
  ]
  for (const [label, query, over, description] of refusals) {
    t.throws(() => checkAuthorizationRequest(query, target(over)), { error: 'invalid_request', message: description }, label)
  }
})

t.test('verifierMatches: S256, and a code issued without a challenge takes no verifier (RFC 9700 §4.8.2)', async (t) => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
  t.ok(verifierMatches(verifier, CHALLENGE), 'RFC 7636 appendix B')
  t.notOk(verifierMatches(undefined, CHALLENGE), 'a challenge and no verifier')
  t.notOk(verifierMatches(verifier.slice(1), CHALLENGE), 'another verifier')
  t.ok(verifierMatches(undefined, null), 'no challenge, no verifier')
  t.notOk(verifierMatches(verifier, null), 'no challenge but a verifier: the downgrade')
})

t.test('grantableScopes: what was asked, or the user\'s within the client\'s list; a scope the user lacks is refused', async (t) => {
  const authz = (query: Query, over: Partial<Client> = {}) => checkAuthorizationRequest({ ...good, ...query }, target(over))
  t.same(grantableScopes(authz({ scope: 'openid items:read' }), 'items:read items:write'), { scopes: ['openid', 'items:read'], refused: [] })
  t.same(grantableScopes(authz({ scope: 'openid admin' }), 'items:read'), { scopes: ['openid', 'admin'], refused: ['admin'] }, 'no silent narrowing')
  t.same(grantableScopes(authz({}), 'items:read items:write'), { scopes: ['items:read', 'items:write'], refused: [] }, 'nothing asked, no client list')
  t.same(grantableScopes(authz({}, { scope: 'items:write' }), 'items:read items:write'), { scopes: ['items:write'], refused: [] }, 'within the client\'s list')
})

t.test('safeReturnTo: only a same-origin path to the authorization endpoint', async (t) => {
  t.equal(safeReturnTo('/authorize?client_id=web&x=%20'), '/authorize?client_id=web&x=%20')
  for (const value of ['https://evil.test/authorize?x', '//evil.test/authorize?x', '/authorize\\@evil.test', '/\\evil.test', '/authorize', '/authorizex?a',
    '/authorize?a#frag', '/authorize?a b', '/login?x', `/authorize?${'a'.repeat(8192)}`, undefined, 42, ['/authorize?a']]) {
    t.equal(safeReturnTo(value), undefined, JSON.stringify(value)?.slice(0, 40) ?? String(value))
  }
})

t.test('authorizePath and queryOf: the pending request as a path and back', async (t) => {
  const query: Query = { client_id: 'web', scope: 'openid profile', state: 'a&b=c é', prompt: 'login consent', repeated: ['x', 'y'] }
  const path = authorizePath(query)
  t.equal(path, '/authorize?client_id=web&scope=openid+profile&state=a%26b%3Dc+%C3%A9&prompt=login+consent&repeated=x&repeated=y', 'encoded; a repeated parameter stays repeated (RFC 8707 resource may repeat)')
  t.same(queryOf(path), query, 'and reads back the same')
  t.equal(authorizePath(query, { prompts: ['login'] }), '/authorize?client_id=web&scope=openid+profile&state=a%26b%3Dc+%C3%A9&prompt=consent&repeated=x&repeated=y', 'prompt=login dropped')
  t.equal(authorizePath({ client_id: 'web', prompt: 'login' }, { prompts: ['login'] }), '/authorize?client_id=web', 'an empty prompt is left out')
  t.same(queryOf('/authorize?a=1&a=2&b=3&a=4'), { a: ['1', '2', '4'], b: '3' }, 'a repeated parameter stays repeated (the check refuses it)')
  t.ok(safeReturnTo(authorizePath(query)), 'what authorizePath makes, safeReturnTo accepts')
})

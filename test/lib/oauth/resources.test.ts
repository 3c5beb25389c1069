import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { consentSections, pickResource, resolveResources, resourceScopeProblem, resourceUriProblem, resourceValues, scopesForResource, withResourceUris, scopesAtRedemption } from '../../../lib/oauth/resources.js'
import type { Resource } from '../../../lib/stores/types.js'

// The RFC 8707 rules alone (lib/oauth/resources.ts); through the app: test/routes/token/resources.test.ts.

const resource = (uri: string, scope: string, name: string | null = null): Resource => ({ uri, name, scope, createdAt: 0 })

t.test('a resource URI: absolute, no fragment, https or http on loopback only, printable ASCII', async (t) => {
  for (const ok of ['https://api.example.test', 'https://api.example.test/mcp', 'https://api.example.test:8443/v1?x=1', 'http://localhost:3000/mcp', 'http://127.0.0.1/', 'http://[::1]:8080']) {
    t.equal(resourceUriProblem(ok), undefined, ok)
  }
  for (const [bad, why] of [
    ['', /1 to 512/], ['x'.repeat(513), /1 to 512/], ['https://api.test/a b', /printable ASCII/], ['https://api.test/ü', /printable ASCII/],
    ['https://api.test/#frag', /fragment/], ['https://api.test#', /fragment/], ['/relative', /absolute URI/], ['api.test', /absolute URI/],
    ['http://api.example.test', /https/], ['http://127.0.0.2', /https/], ['ftp://api.test', /https/], ['urn:example:api', /https/], ['javascript:alert(1)', /https/]
  ] as const) {
    t.match(resourceUriProblem(bad), why, JSON.stringify(bad).slice(0, 40))
  }
})

t.test('a resource\'s scopes: scope tokens, none of OpenID Connect\'s', async (t) => {
  t.equal(resourceScopeProblem(''), undefined)
  t.equal(resourceScopeProblem('mcp:tools files.read'), undefined)
  t.match(resourceScopeProblem('openid mcp:tools'), /OpenID Connect/)
  t.match(resourceScopeProblem('a "b"'), /malformed/)
})

t.test('the resource parameter: absent, once, or repeated (deduplicated, strings only)', async (t) => {
  t.same(resourceValues(undefined), [])
  t.same(resourceValues('https://a.test'), ['https://a.test'])
  t.same(resourceValues(['https://a.test', 'https://b.test', 'https://a.test', 3]), ['https://a.test', 'https://b.test'])
})

t.test('resolving: every value registered and well-formed, else invalid_target (or the caller\'s error)', async (t) => {
  const store = { find: async (uri: string) => uri === 'https://a.test' ? resource(uri, 'a') : undefined }
  t.same((await resolveResources(['https://a.test'], store)).map((r) => r.uri), ['https://a.test'])
  await t.rejects(resolveResources(['https://b.test'], store), { error: 'invalid_target', message: /unknown resource/ })
  await t.rejects(resolveResources(['https://a.test#x'], store), { error: 'invalid_target', message: /fragment/ })
  await t.rejects(resolveResources(Array.from({ length: 11 }, (_, i) => `https://a.test/${i}`), store), { error: 'invalid_target', message: /at most 10/ })
  await t.rejects(resolveResources(['https://b.test'], store, (d) => new Error(`mine: ${d}`)), { message: /^mine: / })
  t.ok((await resolveResources(['https://b.test'], store).catch((e: unknown) => e)) instanceof OAuthError)
})

t.test('which granted resource a token request is for', async (t) => {
  t.equal(pickResource(undefined, []), undefined, 'none granted: Gatehouse\'s own')
  t.equal(pickResource(undefined, ['https://a.test']), 'https://a.test', 'one granted, none named: that one')
  t.equal(pickResource(undefined, ['https://a.test', 'https://b.test']), undefined, 'several, none named: Gatehouse\'s own')
  t.equal(pickResource('https://b.test', ['https://a.test', 'https://b.test']), 'https://b.test')
  t.throws(() => pickResource('https://c.test', ['https://a.test']), { message: /not granted/ }, 'never one not granted')
  t.throws(() => pickResource('https://a.test', []), { message: /not granted/ }, 'nor any for a grant without resources')
})

t.test('a resource token\'s scopes: those the resource defines, within the client\'s list when it has one', async (t) => {
  const api = resource('https://a.test', 'a:read a:write')
  t.same(scopesForResource(['openid', 'a:read', 'a:write', 'items:read'], api, { scope: null }), ['a:read', 'a:write'])
  t.same(scopesForResource(['a:read', 'a:write'], api, { scope: 'a:read other' }), ['a:read'])
  t.same(scopesForResource(['a:read'], resource('https://a.test', ''), { scope: null }), [], 'a resource defining none: none')
})

t.test('consent: what it covers, and the page\'s sections', async (t) => {
  const a = resource('https://a.test', 'a:read', 'A API')
  const b = resource('https://b.test', 'b:read')
  t.same(withResourceUris(['openid', 'a:read'], [a]), ['openid', 'a:read', 'https://a.test'])
  t.same(withResourceUris(['openid'], undefined), ['openid'])
  t.same(consentSections(['openid', 'a:read', 'b:read', 'items:read'], [a, b]), {
    apis: [{ name: 'A API', uri: 'https://a.test', scopes: ['a:read'] }, { name: 'https://b.test', uri: 'https://b.test', scopes: ['b:read'] }],
    own: ['openid', 'items:read']
  })
})

t.test('scopesAtRedemption: the family keeps what the user holds, OIDC scopes and a granted resource\'s; the token is Gatehouse\'s or the resource\'s part', async (t) => {
  const api = { scope: 'mcp:tools notes:read' }
  const user = { scope: 'items:read' }
  const approved = 'openid items:read mcp:tools payroll:write'
  t.same(scopesAtRedemption(approved, user, { scope: null }, [api], undefined), { family: ['openid', 'items:read', 'mcp:tools'], token: ['openid', 'items:read'] },
    'a scope the user lost (payroll:write) is dropped; without a resource the token holds what the user holds')
  t.same(scopesAtRedemption(approved, user, { scope: null }, [api], api).token, ['mcp:tools'], 'for the resource: only what it defines')
  t.same(scopesAtRedemption(approved, user, { scope: 'items:read' }, [api], api).token, [], 'and within the client\'s list when it has one')
  t.same(scopesAtRedemption(approved, user, { scope: null }, [], undefined).family, ['openid', 'items:read'], 'a resource removed since: its scopes go')
})

import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { currentScope, formatScope, grantScope, hasScopes, intersect, isValidScopeList, parseScope } from '../../../lib/oauth/scopes.js'

// Scopes (RFC 6749 §3.3) and what a grant or a token may hold (lib/oauth/scopes.ts).

const refusedWith = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err
    return `${err.error}: ${err.message}`
  }
}

t.test('parse and format: space-separated, duplicates and empty entries dropped', async (t) => {
  t.same(parseScope('a b  a c '), ['a', 'b', 'c'])
  t.same(parseScope(''), [])
  t.same(parseScope(null), [])
  t.same(parseScope(undefined), [])
  t.equal(formatScope(['a', 'b']), 'a b')
  t.equal(formatScope(new Set(['x'])), 'x')
})

t.test('a scope token is 1*( %x21 / %x23-5B / %x5D-7E ): no quote, no backslash, nothing outside printable ASCII', async (t) => {
  t.ok(isValidScopeList('orders:read openid https://api.example/x!#$%&\'()*+,-./[]^_`{|}~'))
  for (const bad of ['a"b', 'a\\b', 'é', 'a\tb', '\u0000']) t.notOk(isValidScopeList(bad), JSON.stringify(bad))
})

t.test('grantScope: everything allowed when nothing is asked; exactly what is asked otherwise, never narrowed silently', async (t) => {
  t.equal(grantScope(undefined, ['a', 'b']), 'a b')
  t.equal(grantScope('b', ['a', 'b']), 'b')
  t.equal(grantScope('b b', ['a', 'b']), 'b')
  t.equal(refusedWith(() => grantScope('b c', ['a', 'b'])), 'invalid_scope: scope not allowed: c')
  t.equal(refusedWith(() => grantScope('a"', ['a"'])), 'invalid_scope: the scope parameter is malformed')
  t.equal(refusedWith(() => grantScope('x'.repeat(300), [])), `invalid_scope: scope not allowed: ${'x'.repeat(200)}`, 'the description is bounded')
})

t.test('intersect and hasScopes', async (t) => {
  t.same(intersect(['a', 'b', 'c'], ['c', 'a']), ['a', 'c'], 'in the first list\'s order')
  t.ok(hasScopes('a b', ['b']))
  t.ok(hasScopes('a', []))
  t.notOk(hasScopes('a b', ['a', 'c']))
  t.notOk(hasScopes(undefined, ['a']))
})

t.test('currentScope: what a token is worth now', async (t) => {
  const client = (scope: string | null) => ({ scope })
  t.same(currentScope(['openid', 'a', 'b'], { scope: 'a' }, client(null)), ['openid', 'a'], 'a user\'s token: the scopes the user still holds, and the OIDC ones')
  t.same(currentScope(['openid', 'a', 'b'], { scope: 'a b' }, client('b')), ['openid', 'b'], 'within the client\'s list (OIDC scopes allowed as at /authorize)')
  t.same(currentScope(['a', 'b'], undefined, client('a')), ['a'], 'a client\'s own token: its current list')
  t.same(currentScope(['a', 'openid'], undefined, client(null)), [], 'a client without a list: nothing for its own token, OIDC scopes included')
  t.same(currentScope([], { scope: 'a' }, client(null)), [])
})

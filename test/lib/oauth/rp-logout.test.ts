import t from 'tap'
import { decideLogout, type LogoutAsk } from '../../../lib/oauth/rp-logout.js'
import type { Client } from '../../../lib/stores/types.js'

const client = { id: 'web', postLogoutRedirectUris: ['https://app.test/bye'] } as Client
const hint = { sub: 'u1', aud: 'web', sid: 'sid-1' }
const ask = (over: Partial<LogoutAsk> = {}): LogoutAsk => ({
  hintSent: true,
  hint,
  clientId: undefined,
  client,
  postLogoutRedirectUri: 'https://app.test/bye',
  state: 's',
  session: { userId: 'u1', sid: 'sid-1' },
  ...over
})

t.test('a hint for this session, a registered URI: signed out and sent back with the state', async (t) => {
  t.same(decideLogout(ask()), { kind: 'sign-out', target: 'https://app.test/bye', state: 's' })
  t.same(decideLogout(ask({ hint: { sub: 'u1', aud: 'web' } })), { kind: 'sign-out', target: 'https://app.test/bye', state: 's' }, 'a hint without sid: by its subject')
  t.same(decideLogout(ask({ session: undefined })), { kind: 'sign-out', target: 'https://app.test/bye', state: 's' }, 'nobody signed in: back to the client')
  t.same(decideLogout(ask({ postLogoutRedirectUri: undefined })), { kind: 'sign-out', target: undefined, state: undefined }, 'no URI: the signed-out page, no state')
})

t.test('a request that cannot be trusted is an error page, not a logout', async (t) => {
  t.match(decideLogout(ask({ hint: undefined })), { kind: 'error', description: /id_token_hint/ }, 'a hint that does not verify (modified, another issuer, self-signed)')
  t.match(decideLogout(ask({ clientId: 'other' })), { kind: 'error', description: /client_id/ }, 'client_id contradicting the hint')
  t.match(decideLogout(ask({ client: undefined })), { kind: 'error', description: /does not exist/ }, 'the named client is gone')
  t.match(decideLogout(ask({ postLogoutRedirectUri: 'https://evil.test/bye' })), { kind: 'error', description: /not registered/ }, 'an unregistered URI')
  t.match(decideLogout(ask({ postLogoutRedirectUri: 'https://app.test/bye?foo=bar' })), { kind: 'error', description: /not registered/ }, 'a query added: not the registered URI')
  t.match(decideLogout(ask({ postLogoutRedirectUri: 'https://app.test/bye/' })), { kind: 'error' }, 'never a prefix match')
})

t.test('the user is asked when the request is not tied to the session', async (t) => {
  const none = ask({ hintSent: false, hint: undefined, client: undefined })
  t.same(decideLogout(none), { kind: 'confirm', target: undefined, state: undefined, clientId: undefined }, 'no hint: asked; an unverifiable URI is dropped')
  t.same(decideLogout({ ...none, postLogoutRedirectUri: undefined, state: undefined }), { kind: 'confirm', target: undefined, state: undefined, clientId: undefined }, 'no parameters at all')
  t.same(decideLogout(ask({ hint: { sub: 'u2', aud: 'web' } })), { kind: 'confirm', target: 'https://app.test/bye', state: 's', clientId: 'web' }, 'another user\'s hint: asked, the target carried on')
  t.same(decideLogout(ask({ hint: { ...hint, sid: 'sid-of-another-session' } })), { kind: 'confirm', target: 'https://app.test/bye', state: 's', clientId: 'web' }, 'a hint from another session of the same user: asked')
  t.same(decideLogout(ask({ hintSent: false, hint: undefined, clientId: 'web' })), { kind: 'confirm', target: 'https://app.test/bye', state: 's', clientId: 'web' }, 'client_id alone names the client for the URI, but does not tie the session')
  t.same(decideLogout(ask({ hintSent: false, hint: undefined, clientId: undefined, client: undefined, session: undefined })), { kind: 'sign-out', target: undefined, state: undefined }, 'nobody signed in, no hint: the signed-out page')
})

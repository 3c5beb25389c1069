import t from 'tap'
import { tempDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'

// The CLI's browser-flow commands: clients add/update --post-logout-redirect-uri --skip-consent, and a user's
// sessions and consents.

const cli = (args: string[], env: Record<string, string>, input?: string) => runCli(args, { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ...env }, input)

t.test('clients add/update with post-logout redirect URIs and skip-consent; users sessions and consents', async (t) => {
  const env = { DATABASE_URL: tempDatabaseUrl(t) }
  const added = await cli(['clients', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', 'https://app.test/cb', '--post-logout-redirect-uri', 'https://app.test/bye', '--skip-consent'], env)
  t.equal(added.code, 0, added.stderr)
  t.match(JSON.parse(added.stdout), { client_id: 'web', post_logout_redirect_uris: ['https://app.test/bye'], skip_consent: true })
  const updated = await cli(['clients', 'update', 'web', '--no-skip-consent', '--post-logout-redirect-uri', 'https://app.test/out'], env)
  t.equal(updated.code, 0, updated.stderr)
  t.match(JSON.parse(updated.stdout), { post_logout_redirect_uris: ['https://app.test/out'], skip_consent: false, redirect_uris: ['https://app.test/cb'] })
  const bad = await cli(['clients', 'update', 'web', '--post-logout-redirect-uri', 'http://evil.test/'], env)
  t.equal(bad.code, 1, 'a plain-http post-logout URI is refused like a redirect URI')
  t.match(bad.stderr, /plain http/)
  t.equal((await cli(['clients', 'update', 'nobody', '--skip-consent'], env)).code, 1)

  const oidc = await cli(['clients', 'update', 'web', '--pkce', 'optional', '--id-token-alg', 'ES256', '--userinfo-alg', 'RS256', '--backchannel-logout-uri', 'https://app.test/bc'], env)
  t.equal(oidc.code, 0, oidc.stderr)
  t.match(JSON.parse(oidc.stdout), { pkce: 'optional', id_token_alg: 'ES256', userinfo_alg: 'RS256', backchannel_logout_uri: 'https://app.test/bc' })
  const cleared = await cli(['clients', 'update', 'web', '--id-token-alg', '', '--userinfo-alg', '', '--backchannel-logout-uri', ''], env)
  t.match(JSON.parse(cleared.stdout), { pkce: 'optional', id_token_alg: null, userinfo_alg: null, backchannel_logout_uri: null }, "'' goes back to the default")
  const publicOptional = await cli(['clients', 'add', 'spa', '--public', '--redirect-uri', 'https://spa.test/cb', '--pkce', 'optional'], env)
  t.equal(publicOptional.code, 1, 'a public client cannot go without PKCE')
  t.match(publicOptional.stderr, /public client must use PKCE/)
  t.equal((await cli(['clients', 'update', 'web', '--id-token-alg', 'HS256'], env)).code, 1)

  // The second-factor flags: off unless given; update's --no- forms turn them off; both at once is a usage error.
  t.match(JSON.parse(oidc.stdout), { require_mfa: false, password_grant_skips_mfa: false })
  const mfa = await cli(['clients', 'add', 'strict', '--grant', 'authorization_code,password', '--redirect-uri', 'https://app.test/cb', '--require-mfa', '--password-grant-skips-mfa'], env)
  t.equal(mfa.code, 0, mfa.stderr)
  t.match(JSON.parse(mfa.stdout), { require_mfa: true, password_grant_skips_mfa: true })
  t.match(JSON.parse((await cli(['clients', 'update', 'strict', '--no-password-grant-skips-mfa'], env)).stdout), { require_mfa: true, password_grant_skips_mfa: false })
  t.match(JSON.parse((await cli(['clients', 'update', 'strict', '--no-require-mfa'], env)).stdout), { require_mfa: false, password_grant_skips_mfa: false })
  t.match(JSON.parse((await cli(['clients', 'update', 'web', '--require-mfa'], env)).stdout), { require_mfa: true, pkce: 'optional' })
  const both = await cli(['clients', 'update', 'web', '--require-mfa', '--no-require-mfa'], env)
  t.equal(both.code, 1, 'contradicting flags')
  t.match(both.stderr, /--require-mfa and --no-require-mfa together/)

  t.equal((await cli(['users', 'add', 'alice', '--password-stdin'], env, 'pw')).code, 0)
  const sessions = await cli(['users', 'sessions', 'alice'], env)
  t.same(JSON.parse(sessions.stdout), [])
  t.same(JSON.parse((await cli(['users', 'end-sessions', 'alice'], env)).stdout), { ended: 0 })
  t.same(JSON.parse((await cli(['users', 'consents', 'alice'], env)).stdout), [])
  t.same(JSON.parse((await cli(['users', 'revoke-consent', 'alice', '--client', 'web'], env)).stdout), { revoked: 0 })
  t.equal((await cli(['users', 'sessions', 'nobody'], env)).code, 1)
})

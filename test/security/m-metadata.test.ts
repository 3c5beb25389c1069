import t from 'tap'
import { loadConfig } from '../../lib/config.js'
import { addUser, build, ISSUER, post, manualClock } from '../support/helper.js'

// SECURITY-CASES M1–M2: discovery metadata (RFC 8414) and the JWKS (RFC 7517).

const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']
const HOSTILE_HEADERS: Array<Record<string, string>> = [
  { host: 'evil' },
  { 'x-forwarded-host': 'evil' },
  { host: 'evil.test', 'x-forwarded-host': 'evil', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/evil', forwarded: 'host=evil;proto=https' }
]

t.test('M1: the issuer never comes from Host or X-Forwarded-* headers', async (t) => {
  const app = await build(t)
  for (const url of METADATA_PATHS) {
    const plain = (await app.inject({ method: 'GET', url })).body
    for (const headers of HOSTILE_HEADERS) {
      const res = await app.inject({ method: 'GET', url, headers })
      t.equal(res.statusCode, 200)
      t.equal(res.json().issuer, ISSUER, `${url} with ${JSON.stringify(headers)}: issuer unchanged`)
      t.equal(res.body, plain, 'the whole document is unchanged')
      t.notOk(res.body.includes('evil'), 'no trace of the header')
    }
  }
})

t.test('M1: a configured https issuer (with a path) is used as is, whatever the request headers; S256 only, no implicit, revocation and introspection listed', async (t) => {
  const issuer = 'https://auth.example.com/tenant'
  const app = await build(t, { ISSUER: issuer })
  for (const url of METADATA_PATHS) {
    for (const headers of [{}, ...HOSTILE_HEADERS]) {
      const res = await app.inject({ method: 'GET', url, headers })
      t.equal(res.statusCode, 200)
      const doc = res.json()
      t.equal(doc.issuer, issuer, `${url} ${JSON.stringify(headers)}: the configured https issuer`)
      const parsed = new URL(doc.issuer)
      t.equal(parsed.protocol, 'https:')
      t.equal(parsed.search, '', 'no query')
      t.equal(parsed.hash, '', 'no fragment')
      t.equal(doc.token_endpoint, `${issuer}/token`)
      t.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`)
      t.equal(doc.revocation_endpoint, `${issuer}/revoke`, 'revocation endpoint listed')
      t.equal(doc.introspection_endpoint, `${issuer}/introspect`, 'introspection endpoint listed')
      t.notOk(doc.grant_types_supported.includes('implicit'), 'no implicit grant')
      t.notOk(doc.response_types_supported.some((type: string) => type.split(' ').includes('token')), 'no implicit response type')
      if (doc.authorization_endpoint === undefined) {
        // No authorization endpoint yet (test/security/PENDING.md): nothing to advertise PKCE methods for.
        t.equal(doc.code_challenge_methods_supported, undefined, 'no PKCE methods without an authorization endpoint')
      } else {
        t.same(doc.code_challenge_methods_supported, ['S256'], 'PKCE: S256 only')
      }
      t.notOk(res.body.includes('evil'), 'no trace of the headers')
    }
  }
  // The configuration refuses an issuer with a query or a fragment (RFC 8414 §2).
  for (const bad of ['https://auth.example.com/?tenant=a', 'https://auth.example.com/#x', 'ftp://auth.example.com']) {
    t.throws(() => loadConfig({ ISSUER: bad }), /ISSUER/, `ISSUER=${bad} is refused`)
  }
})

t.test('M2: the JWKS has public members only; every key has kid, alg and use=sig', async (t) => {
  const app = await build(t)
  await app.signingKeys.rotate()
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/(jwk-set\+)?json\b/)
  const { keys, ...rest } = res.json()
  t.same(rest, {}, 'only a keys member')
  t.equal(keys.length, 4, 'both keys of each algorithm (RS256, ES256) are published after a rotation')
  const kids = new Set()
  for (const key of keys) {
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) t.notOk(secret in key, `no private member ${secret}`)
    t.type(key.kid, 'string')
    t.ok(key.kid.length > 0, 'kid is not empty')
    t.equal(key.use, 'sig')
    if (key.alg === 'ES256') {
      t.same(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
      t.match(key, { kty: 'EC', crv: 'P-256', x: String, y: String })
    } else {
      t.equal(key.alg, 'RS256', 'the only other algorithm')
      t.same(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
      t.match(key, { kty: 'RSA', n: String, e: String })
    }
    kids.add(key.kid)
  }
  t.equal(kids.size, keys.length, 'kids are unique')
  t.notOk(/PRIVATE/.test(res.body), 'no PEM anywhere')
  t.ok(kids.has(app.signingKeys.current().active.kid), 'the signing key is published')
})

t.test('M2: POST /admin/keys/rotate; a retired key leaves the JWKS only after the longest access-token lifetime', async (t) => {
  const clock = manualClock()
  const app = await build(t, { ACCESS_TOKEN_TTL: '60' }, { clock })
  // The ES256 keys (access tokens'); the RS256 ones follow the same rules (test/lib/keys/).
  const kids = async () => ((await app.inject({ url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string, alg: string }>).filter((k) => k.alg === 'ES256').map((k) => k.kid)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  const admin = (await post(app, '/token', { grant_type: 'password', username: 'root', password: 'pw' })).json().access_token
  const [k1] = await kids()
  const rotated = await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } })
  t.equal(rotated.statusCode, 200)
  const { kid: k2, activates_at: activatesAt } = rotated.json()
  t.equal(activatesAt, clock.now() + 30, 'it signs after KEY_PUBLISH_DELAY_SECONDS (30 by default)')
  t.same((await kids()).sort(), [k1, k2].sort())

  clock.advance(30) // k2 signs from now on: k1 has retired
  // The retired key's last token (TTL 60 s) is accepted for 10 s of leeway more; 2 s of margin cover
  // clock skew between instances (lib/keys/signing-keys.ts).
  clock.advance(60 + 10 + 2)
  await app.signingKeys.reload()
  t.ok((await kids()).includes(k1!), '...but not yet past it')
  clock.advance(1)
  await app.signingKeys.reload()
  t.same(await kids(), [k2], 'retired key dropped after the longest access-token lifetime')
})

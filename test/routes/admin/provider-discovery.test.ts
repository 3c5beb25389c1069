import t, { type Test } from 'tap'
import { build } from '../../support/helper.js'
import { startUpstreamOp, type UpstreamOp } from '../../support/upstream/op.js'
import { startUnreachableIssuer } from '../../support/upstream/hostile-op.js'
import { startBadIssuers } from '../../support/upstream/documents.js'
import { adminAuth, callbackUrl } from '../../support/upstream/flow.js'

// POST and PATCH /admin/providers with check_discovery (issue 28): the provider's discovery document is read before
// anything is stored (lib/admin/providers.ts, through lib/upstream/client.ts UpstreamClients.check), against a real
// node-oidc-provider and against issuers that fail (a dead port, a document naming another issuer, HTML, a silence).
// Runs on SQLite, and on PostgreSQL (test/postgres/list.ts).

async function setup (t: Test, env: Record<string, string> = {}) {
  const app = await build(t, env)
  const admin = await adminAuth(t, app)
  const call = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, headers: admin, payload })
  return { app, call, admin }
}

async function realOp (t: Test, name: string): Promise<UpstreamOp> {
  const op = await startUpstreamOp({ redirectUris: callbackUrl(name) })
  t.teardown(() => op.close())
  return op
}

const wellKnown = (issuer: string) => `${issuer}/.well-known/openid-configuration`

t.test('POST with check_discovery: a live provider is read and stored; the answer says what its document gave', async (t) => {
  const { app, call, admin } = await setup(t)
  const op = await realOp(t, 'corp')
  const res = await call('POST', '/admin/providers', { name: 'corp', issuer: op.issuer, client_id: op.clientId, client_secret: op.clientSecret, check_discovery: true })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), {
    name: 'corp',
    discovery: { discovered: true, issuer: op.issuer, authorization_endpoint: `${op.issuer}/auth`, token_endpoint: `${op.issuer}/token`, userinfo_endpoint: `${op.issuer}/me`, jwks_uri: `${op.issuer}/jwks` }
  })
  t.notOk(res.body.includes(op.clientSecret), 'no secret')
  t.match(await app.storage.providers.find('corp'), { issuer: op.issuer })
  t.notOk('discovery' in (await app.inject({ method: 'GET', url: '/admin/providers/corp', headers: admin })).json(), 'GET has no discovery: it is what the check found, not stored')
})

t.test('POST with check_discovery refused (400, nothing stored): a dead port, another issuer, no JSON; without it, stored as before', async (t) => {
  const { app, call } = await setup(t)
  const bad = await startBadIssuers(t)
  const cases: Array<[string, string, RegExp]> = [
    ['a dead port', bad.dead, /^discovery failed: ECONNREFUSED /],
    ['a document naming another issuer', bad.wrongIssuer, new RegExp(`^discovery failed: its issuer is ${bad.namedIssuer}, not ${bad.wrongIssuer}`)],
    ['an HTML answer', bad.notJson, /^discovery failed: unexpected response content-type \(OAUTH_RESPONSE_IS_NOT_JSON\)/]
  ]
  for (const [label, issuer, why] of cases) {
    const res = await call('POST', '/admin/providers', { name: 'corp', issuer, client_id: 'gatehouse', client_secret: 's', check_discovery: true })
    t.equal(res.statusCode, 400, `${label}: 400`)
    t.equal(res.json().error, 'invalid_request', label)
    t.match(res.json().error_description, why, `${label}: says why`)
    t.ok(res.json().error_description.endsWith(`(GET ${wellKnown(issuer)})`), `${label}: and what it fetched`)
    t.equal(await app.storage.providers.find('corp'), undefined, `${label}: nothing stored`)
  }
  t.equal(bad.hits(), 2, 'the wrong issuer and the HTML were each fetched once')
  // The input's own rules come first: a refused input never calls the provider.
  t.match((await call('POST', '/admin/providers', { name: 'corp', issuer: bad.wrongIssuer, client_id: 'g', client_secret: 's', scope: 'email', check_discovery: true })).json(), { error_description: /openid scope/ })
  t.equal(bad.hits(), 2, 'no fetch for a refused input')
  t.equal((await call('POST', '/admin/providers', { name: 'corp', issuer: bad.dead, client_id: 'g', client_secret: 's', check_discovery: false })).statusCode, 201, 'check_discovery false: stored unread')
  t.equal((await call('POST', '/admin/providers', { name: 'corp2', issuer: bad.dead, client_id: 'g', client_secret: 's' })).statusCode, 201, 'the default: stored unread')
  t.equal((await call('POST', '/admin/providers', { name: 'corp', issuer: bad.wrongIssuer, client_id: 'g', client_secret: 's', check_discovery: true })).statusCode, 409, 'a taken name: 409 before any fetch')
  t.equal(bad.hits(), 2)
  t.equal((await call('POST', '/admin/providers', { name: 'x', issuer: bad.dead, client_id: 'g', client_secret: 's', check_discovery: 'yes' })).statusCode, 400, 'a boolean')
})

t.test('the sign-in\'s timeout: a provider that never answers is refused within UPSTREAM_TIMEOUT_MS', async (t) => {
  const { app, call } = await setup(t, { UPSTREAM_TIMEOUT_MS: '300' })
  const silent = await startUnreachableIssuer('silent')
  t.teardown(silent.close)
  const started = Date.now()
  const res = await call('POST', '/admin/providers', { name: 'corp', issuer: silent.issuer, client_id: 'g', client_secret: 's', check_discovery: true })
  const took = Date.now() - started
  t.equal(res.statusCode, 400)
  t.match(res.json().error_description, /^discovery failed: operation timed out \(OAUTH_TIMEOUT\)/)
  t.ok(took >= 250 && took < 3000, `answered after ${took} ms`)
  t.equal(await app.storage.providers.find('corp'), undefined)
})

t.test('a plain OAuth 2.0 provider: nothing to discover, nothing fetched; the answer says so', async (t) => {
  const { call } = await setup(t)
  const dead = await startUnreachableIssuer('closed')
  const res = await call('POST', '/admin/providers', {
    name: 'gh',
    issuer: dead.issuer,
    client_id: 'g',
    client_secret: 's',
    check_discovery: true,
    authorization_endpoint: `${dead.issuer}/authorize`,
    token_endpoint: `${dead.issuer}/token`,
    userinfo_endpoint: `${dead.issuer}/user`
  })
  t.equal(res.statusCode, 201)
  t.same(res.json().discovery, { discovered: false, issuer: dead.issuer, authorization_endpoint: `${dead.issuer}/authorize`, token_endpoint: `${dead.issuer}/token`, userinfo_endpoint: `${dead.issuer}/user`, jwks_uri: null })
})

t.test('PATCH with check_discovery: checked when the issuer changes (refused: nothing changes); not when it does not', async (t) => {
  const { app, call } = await setup(t)
  const op = await realOp(t, 'corp')
  const bad = await startBadIssuers(t)
  t.equal((await call('POST', '/admin/providers', { name: 'corp', issuer: op.issuer, client_id: op.clientId, client_secret: op.clientSecret })).statusCode, 201)
  const refused = await call('PATCH', '/admin/providers/corp', { issuer: bad.wrongIssuer, display_name: 'Moved', check_discovery: true })
  t.equal(refused.statusCode, 400)
  t.match(refused.json().error_description, `discovery failed: its issuer is ${bad.namedIssuer}`)
  t.match(await app.storage.providers.find('corp'), { issuer: op.issuer, displayName: 'corp' }, 'nothing changed')
  const unchecked = await call('PATCH', '/admin/providers/corp', { issuer: bad.dead })
  t.equal(unchecked.statusCode, 200, 'without check_discovery: saved unread')
  t.notOk('discovery' in unchecked.json())
  const same = await call('PATCH', '/admin/providers/corp', { display_name: 'Corp', check_discovery: true })
  t.equal(same.statusCode, 200, 'the issuer unchanged: nothing to check (its dead port is not called)')
  t.notOk('discovery' in same.json())
  const back = await call('PATCH', '/admin/providers/corp', { issuer: op.issuer, check_discovery: true })
  t.equal(back.statusCode, 200, back.body)
  t.match(back.json(), { issuer: op.issuer, display_name: 'Corp', discovery: { discovered: true, issuer: op.issuer, jwks_uri: `${op.issuer}/jwks` } })
})

t.test('app.providers (the service the CLI and API share) takes checkDiscovery too', async (t) => {
  const { app } = await setup(t)
  const bad = await startBadIssuers(t)
  await t.rejects(app.providers.add({ name: 'corp', issuer: bad.notJson, clientId: 'g', clientSecret: 's', checkDiscovery: true }), { statusCode: 400, message: /^discovery failed: / })
  t.equal(await app.storage.providers.find('corp'), undefined)
})

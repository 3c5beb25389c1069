import t from 'tap'
import { digest } from '../../../lib/credentials/digest.js'
// An OAuth error (400 JSON) or an error page (400 HTML): invalid_request either way.
const PAGE = { error: 'invalid_request', statusCode: 400, message: /./ }
import {
  isPushedRequestUri, mustPush, newRequestUri, PUSHED_INTERACTION_SECONDS, PUSHED_REQUEST_TTL_SECONDS,
  pushedParameters, pushLimits, pushRequest, resolvePushedRequest, spendPushedRequest
} from '../../../lib/oauth/pushed-requests.js'
import type { PushedRequest, PushedRequestStore } from '../../../lib/stores/types.js'
import { DEFAULT_CLIENT } from '../../../lib/oauth/client-auth.js'

/** An in-memory store with the port's rules (the real ones are in test/stores/pushed-requests-suite.ts). */
function memoryStore (): PushedRequestStore & { rows: Map<string, PushedRequest> } {
  const rows = new Map<string, PushedRequest>()
  return {
    rows,
    async create (r) { rows.set(r.hash, { ...r }) },
    async start (hash, clientId, now, until) {
      const r = rows.get(hash)
      if (!r || r.clientId !== clientId || r.expiresAt <= now) return undefined
      if (r.state === 'unused') Object.assign(r, { state: 'started', startedAt: now, expiresAt: until })
      return r.state === 'started' ? { ...r } : undefined
    },
    async consume (hash, now) {
      const r = rows.get(hash)
      if (!r || r.state !== 'started' || r.expiresAt <= now) return false
      r.state = 'used'
      return true
    },
    async purgeExpired () { return 0 }
  }
}
const web = { ...DEFAULT_CLIENT, id: 'web' }
function thrownBy (fn: () => unknown): unknown {
  try { fn() } catch (err) { return err }
  return undefined
}

t.test('request_uri: the RFC 9126 URN with 256 random bits; stored by its digest only', async (t) => {
  const a = newRequestUri()
  t.match(a.requestUri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/)
  t.equal(a.hash, digest(a.requestUri))
  t.not(newRequestUri().requestUri, a.requestUri)
  t.ok(isPushedRequestUri(a.requestUri))
  t.notOk(isPushedRequestUri('https://app.test/request.jwt'), 'another request_uri is not one of ours')
  t.notOk(isPushedRequestUri(['urn:ietf:params:oauth:request_uri:x']), 'a repeated one neither')
})

t.test('the pushed parameters: client authentication left out, request_uri and NUL refused, lists kept', async (t) => {
  t.same(pushedParameters({ client_id: 'web', client_secret: 's', client_assertion: 'j', client_assertion_type: 't', scope: 'openid', resource: ['https://a.test/', 'https://b.test/'] }),
    { client_id: 'web', scope: 'openid', resource: ['https://a.test/', 'https://b.test/'] })
  t.match(thrownBy(() => pushedParameters({ request_uri: 'urn:x' })), PAGE, 'request_uri (§2.1)')
  t.match(thrownBy(() => pushedParameters({ state: 'a\u0000' })), PAGE, 'a NUL')
})

t.test('pushed: 60 s to be presented; the first presentation starts it for the sign-in\'s lifetime; spent once', async (t) => {
  const store = memoryStore()
  const now = 1_800_000_000
  const { requestUri, expiresIn } = await pushRequest({ pushedRequests: store }, { client: web, parameters: { scope: 'openid', client_id: 'forged' }, now })
  t.equal(expiresIn, PUSHED_REQUEST_TTL_SECONDS)
  t.equal(expiresIn, 60)
  const row = [...store.rows.values()][0]
  t.match(row, { clientId: 'web', state: 'unused', expiresAt: now + 60, parameters: { client_id: 'web' } }, 'the pusher is the client, whatever the body said')

  const query = { client_id: 'web', request_uri: requestUri, state: 'ignored' }
  const first = await resolvePushedRequest(query, { pushedRequests: store, now: now + 59 })
  t.same(first.query, { scope: 'openid', client_id: 'web' }, 'the pushed parameters replace the query (§4)')
  t.match(first.pushed, { hash: digest(requestUri), startedAt: now + 59 })
  t.equal(first.pushed?.path, `/authorize?client_id=web&request_uri=${encodeURIComponent(requestUri)}`)
  t.equal(row?.expiresAt, now + 59 + PUSHED_INTERACTION_SECONDS)
  const reload = await resolvePushedRequest(query, { pushedRequests: store, now: now + 600 })
  t.equal(reload.pushed?.startedAt, now + 59, 'read again during the sign-in, its start kept')
  await t.rejects(resolvePushedRequest({ ...query, client_id: 'spa' }, { pushedRequests: store, now: now + 600 }), PAGE, 'another client')
  await t.rejects(resolvePushedRequest({ request_uri: requestUri }, { pushedRequests: store, now }), PAGE, 'no client_id')

  await spendPushedRequest(store, first.pushed, now + 700)
  await t.rejects(spendPushedRequest(store, first.pushed, now + 700), PAGE, 'spent once')
  await t.rejects(resolvePushedRequest(query, { pushedRequests: store, now: now + 701 }), PAGE, 'a spent urn is never read again')
  await spendPushedRequest(store, undefined, now)
  t.pass('nothing to spend for a request that was not pushed')

  const late = await pushRequest({ pushedRequests: store }, { client: web, parameters: {}, now })
  await t.rejects(resolvePushedRequest({ client_id: 'web', request_uri: late.requestUri }, { pushedRequests: store, now: now + 60 }), PAGE, 'presented at 60 s')
  const plain = { client_id: 'web', request_uri: 'https://app.test/r' }
  t.same(await resolvePushedRequest(plain, { pushedRequests: store, now }), { query: plain, pushed: undefined }, 'another request_uri is left to /authorize')
})

t.test('who must push; push limits per address and per client', async (t) => {
  t.equal(mustPush({ requirePar: false }, false), false)
  t.equal(mustPush({ requirePar: true }, false), true)
  t.equal(mustPush({ requirePar: false }, true), true, 'REQUIRE_PAR=on')
  const [address, client] = pushLimits('10.0.0.1', 'web')
  t.match(address, { max: 60, windowSeconds: 60, kind: 'address' })
  t.match(client, { max: 600, windowSeconds: 60 })
  t.notMatch(address?.key, /10\.0\.0\.1/, 'the address is not in the key in clear')
  t.not(pushLimits('10.0.0.2', 'web')[0]?.key, address?.key)
})

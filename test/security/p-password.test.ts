import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { performance } from 'node:perf_hooks'
import { ADDRESS_ACCOUNTS, SIGN_IN_LIMITS, signInKeys } from '../../lib/oauth/brute-force.js'
import { reserveSignIn } from '../../lib/oauth/sign-in-reservation.js'
import { addUser, build, form, FORM } from '../support/helper.js'
import { assertOAuthError, passwordGrant, stableHeaders, uniqueIp } from '../support/oauth.js'
import { assertJsonLines, buildLogged } from '../support/security.js'
import { comparePaired, measure, type Took } from '../support/timing.js'

// SECURITY-CASES P1–P6: the password grant against look-alike and hostile usernames, enumeration,
// brute force and hashing-cost abuse.

const PASSWORD = 'correct horse battery staple'
const BAD_CREDENTIALS = 'invalid username or password'

/** A password-grant request from an address of its own: P1–P4 and P6 are about input, not throttling. */
function post (payload: string, headers: Record<string, string> = FORM) {
  return { method: 'POST' as const, url: '/token', headers, payload, remoteAddress: uniqueIp() }
}

const attempt = (app: FastifyInstance, username: string, password: string, ip = '192.0.2.1') =>
  app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password }), remoteAddress: ip })

t.test('P1: usernames that only look like alice, with alice\'s real password, never log in as alice', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  const reference = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'wrong' })))
  assertOAuthError(t, reference, 400, 'invalid_grant', BAD_CREDENTIALS, 'wrong password')

  const lookAlikes = ['alice\u0000', '\u0000alice', 'ａｌｉｃｅ', 'Alice', 'ALICE', 'alice\u200b', '\u200balice', 'alice ', ' alice', 'alice\n', 'аlice' /* Cyrillic а */, 'alice%00x', 'alice\ud800', '\udc00alice']
  for (const username of lookAlikes) {
    const res = await app.inject(post(form({ grant_type: 'password', username, password: PASSWORD })))
    t.equal(res.statusCode, reference.statusCode, `${JSON.stringify(username)}: same status as a wrong password`)
    t.equal(res.body, reference.body, `${JSON.stringify(username)}: same body as a wrong password`)
    t.same(stableHeaders(res), stableHeaders(reference), `${JSON.stringify(username)}: same headers`)
  }

  // Raw, hostile percent-encodings (decoded by the form parser, or not): NUL, a lone surrogate, bytes that are not UTF-8.
  for (const raw of ['alice%00', 'alice%00x', '%ED%A0%80', 'alice%ED%A0%80', '%FF', 'alice%FF', '%E2%80%8Balice', '%', 'alice%', '%C0%80alice']) {
    const res = await app.inject(post(`grant_type=password&username=${raw}&password=${encodeURIComponent(PASSWORD)}`))
    assertOAuthError(t, res, 400, 'invalid_grant', BAD_CREDENTIALS, `raw username=${raw}`)
  }

  const long = await app.inject(post(form({ grant_type: 'password', username: 'alice' + 'a'.repeat(10_000), password: PASSWORD })))
  assertOAuthError(t, long, 400, 'invalid_request', undefined, '10 KB username')
  t.notOk(long.body.includes('aaaaaaaaaa'), 'the username is not echoed')

  t.equal(await app.users.count(), 1, 'the users table is intact')
  await passwordGrant(t, app, 'alice', PASSWORD)
})

t.test('P2: SQL-looking usernames answer like a wrong password; the table is intact; no SQL text in body or log', async (t) => {
  const { app, lines, output } = await buildLogged(t)
  await addUser(app, 'alice', PASSWORD)
  const reference = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'wrong' })))
  assertOAuthError(t, reference, 400, 'invalid_grant', BAD_CREDENTIALS, 'wrong password')

  // SQL injection, LIKE wildcards, placeholders, escapes: each with alice's real password.
  const hostile = ["' OR '1'='1", "' OR 1=1--", "alice'--", "alice' --", "alice'; --", '"; DROP TABLE users;--', "'; DROP TABLE users; --",
    '%', '_', 'a%', 'ali%', 'al_ce', 'a_ice', '_____', '*', 'alice\\', "alice' OR username LIKE '%", '$1', '?', '\\x00']
  for (const username of hostile) {
    const res = await app.inject(post(form({ grant_type: 'password', username, password: PASSWORD })))
    t.equal(res.statusCode, reference.statusCode, `${JSON.stringify(username)}: same status as a wrong password`)
    t.equal(res.body, reference.body, `${JSON.stringify(username)}: same body as a wrong password`)
    t.same(stableHeaders(res), stableHeaders(reference), `${JSON.stringify(username)}: same headers`)
  }

  t.equal(await app.users.count(), 1, 'the users table is intact')
  await passwordGrant(t, app, 'alice', PASSWORD)
  const entries = assertJsonLines(t, lines())
  t.notOk(entries.some((e) => Number(e.level) >= 50), 'no error was logged')
  t.notMatch(output(), /\bSELECT\b|\bFROM users\b|SQLITE_|syntax error|unterminated|\bsqlstate\b/i, 'no SQL text in the log')
})

t.test('P3: unknown user, wrong password and disabled user with the right password: byte-identical replies', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', PASSWORD)
  await addUser(app, 'bob', PASSWORD, { disabled: true })
  const unknown = await app.inject(post(form({ grant_type: 'password', username: 'mallory', password: PASSWORD })))
  const wrong = await app.inject(post(form({ grant_type: 'password', username: 'alice', password: PASSWORD + '!' })))
  const disabled = await app.inject(post(form({ grant_type: 'password', username: 'bob', password: PASSWORD })))
  assertOAuthError(t, unknown, 400, 'invalid_grant', BAD_CREDENTIALS, 'unknown user')
  for (const [name, res] of [['wrong password', wrong], ['disabled user', disabled]] as const) {
    t.equal(res.statusCode, unknown.statusCode, `${name}: same status`)
    t.equal(res.body, unknown.body, `${name}: byte-identical body`)
    t.same(stableHeaders(res), stableHeaders(unknown), `${name}: same headers (Date excepted)`)
  }
})

t.test('P4: unknown user vs alice with a wrong password at production argon2 cost: medians within 10%', async (t) => {
  // The one timing test of the suite (SECURITY-CASES P4). OWASP's argon2id minimum, as in production.
  const app = await build(t, { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1' })
  await addUser(app, 'alice', PASSWORD)
  let n = 0
  // Every attempt from an address of its own and, for unknown users, a name of its own; alice's account counter
  // is cleared before each of her attempts (as her next successful sign-in would), so no limit answers 429.
  // Each sample is the wall time of the request and the process CPU time it used (argon2 runs on libuv's pool).
  const timed = async (known: boolean): Promise<Took> => {
    n++
    const ip = `10.200.${(n >> 8) & 255}.${n & 255}`
    const username = known ? 'alice' : `ghost-${n}`
    if (known) {
      // A successful sign-in's settlement, with nothing else in flight, clears alice's account counter.
      const attempt = await reserveSignIn(app.throttle, signInKeys('alice', ip), SIGN_IN_LIMITS)
      if (!('settle' in attempt)) throw new Error(`alice's account is locked (retry after ${attempt.retryAfter} s)`)
      await attempt.settle('success')
    }
    const { result: res, wall, cpu } = await measure(() => app.inject({ method: 'POST', url: '/token', headers: FORM, payload: form({ grant_type: 'password', username, password: 'wrong password' }), remoteAddress: ip }))
    if (res.statusCode !== 400 || res.json().error !== 'invalid_grant') throw new Error(`unexpected reply ${res.statusCode} ${res.body}`)
    return { wall, cpu }
  }
  const unknown = () => timed(false)
  const wrong = () => timed(true)
  const names = ['unknown', 'wrong password'] as const

  // Judged on paired attempts (test/support/timing.ts), wall clock and CPU time alike; warm-up: JIT, and argon2's
  // memory in each pool thread.
  const timing = await comparePaired({ a: unknown, b: wrong, pairs: 200, warmUp: 20, within: 0.10 })
  t.ok(timing.estimates.wall.b > 3, `a wrong password costs a real argon2 verify (median ${timing.estimates.wall.b.toFixed(2)} ms)`)
  t.ok(timing.estimates.wall.gap < 0.10, `wall clock within 10%: ${timing.describe('wall', names)}`)
  t.ok(timing.estimates.cpu.gap < 0.10, `CPU time within 10%: ${timing.describe('cpu', names)}`)

  // The measurement can see the leak it guards against: without the dummy verify, unknown users answer at once.
  const verify = app.passwords.verify
  app.passwords.verify = async (stored, password) => stored === null ? { ok: false, needsRehash: false } : verify(stored, password)
  const leak = await comparePaired({ a: unknown, b: wrong, pairs: 20, within: 0.10, maxRounds: 1 })
  app.passwords.verify = verify
  t.ok(leak.estimates.wall.gap > 0.5 && leak.estimates.wall.paired < 0, `with the dummy verify removed the gap is plain: ${leak.describe('wall', names)}`)
})

t.test('P5: 30 wrong passwords for alice from one IP: 429 + Retry-After after 10; the right one refused while throttled; carol unaffected', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'alice-pw')
  await addUser(app, 'carol', 'carol-pw')
  for (let i = 0; i < 30; i++) {
    const res = await attempt(app, 'alice', `guess-${i}`, '192.0.2.10')
    if (i < 10) {
      assertOAuthError(t, res, 400, 'invalid_grant', BAD_CREDENTIALS, `guess ${i}`)
    } else {
      assertOAuthError(t, res, 429, 'too_many_requests', undefined, `guess ${i}`)
      t.match(res.headers['retry-after'], /^[1-9]\d*$/, `guess ${i}: Retry-After`)
    }
    if (i === 15) t.equal((await attempt(app, 'carol', 'carol-pw', '203.0.113.9')).statusCode, 200, 'carol signs in from another IP meanwhile')
  }
  for (const ip of ['192.0.2.10', '198.51.100.77']) {
    const right = await attempt(app, 'alice', 'alice-pw', ip)
    assertOAuthError(t, right, 429, 'too_many_requests', undefined, `alice's right password from ${ip}`)
    t.ok(Number(right.headers['retry-after']) > 0 && Number(right.headers['retry-after']) <= 900, 'Retry-After within the 15-minute window')
  }
  t.equal((await attempt(app, 'carol', 'carol-pw', '203.0.113.9')).statusCode, 200, 'carol still signs in')
})

t.test('P5: an account is throttled after 10 failures; the right password is refused while throttled; others are unaffected', async (t) => {
  const app = await build(t)
  await addUser(app, 'alice', 'alice-pw')
  await addUser(app, 'carol', 'carol-pw')
  const verifySpy = app.passwords.verify
  let hashes = 0
  app.passwords.verify = async (...args) => { hashes++; return verifySpy(...args) }

  for (let i = 0; i < 10; i++) {
    const res = await attempt(app, 'alice', `guess-${i}`, `192.0.2.${i % 2}`)
    t.equal(res.statusCode, 400, `guess ${i} is an ordinary failure`)
  }
  const blocked = await attempt(app, 'alice', 'alice-pw', '198.51.100.7')
  t.equal(blocked.statusCode, 429, 'throttled per account, whatever the IP')
  t.equal(blocked.json().error, 'too_many_requests')
  t.match(blocked.headers['retry-after'], /^\d+$/)
  t.ok(Number(blocked.headers['retry-after']) > 0 && Number(blocked.headers['retry-after']) <= 900)
  t.equal(blocked.headers['cache-control'], 'no-store')
  const before = hashes
  for (let i = 0; i < 20; i++) await attempt(app, 'alice', 'x', '198.51.100.8')
  t.equal(hashes, before, 'no hash is computed for a throttled account')

  const carol = await attempt(app, 'carol', 'carol-pw', '203.0.113.9')
  t.equal(carol.statusCode, 200, 'another user from another IP signs in meanwhile')
})

t.test('P5: unknown usernames are throttled the same way', async (t) => {
  const app = await build(t)
  for (let i = 0; i < 10; i++) t.equal((await attempt(app, 'ghost', 'x', `192.0.2.${i}`)).statusCode, 400)
  t.equal((await attempt(app, 'ghost', 'x', '192.0.2.99')).statusCode, 429)
})

t.test(`P5: one IP spraying many accounts is throttled after ${ADDRESS_ACCOUNTS.max} accounts; other IPs are not`, async (t) => {
  const app = await build(t)
  await addUser(app, 'dave', 'dave-pw')
  for (let i = 0; i < ADDRESS_ACCOUNTS.max; i++) t.equal((await attempt(app, `user${i}`, 'x', '192.0.2.50')).statusCode, 400)
  t.equal((await attempt(app, 'dave', 'dave-pw', '192.0.2.50')).statusCode, 429, 'the spraying IP must wait, even with a right password')
  t.equal((await attempt(app, 'dave', 'dave-pw', '192.0.2.51')).statusCode, 200, 'dave from elsewhere is fine')
})

t.test('P5: behind one NAT, users who mistype their own passwords do not lock each other out; a success does not clear the address', async (t) => {
  const app = await build(t)
  const nat = '192.0.2.60'
  for (let u = 0; u < 5; u++) await addUser(app, `nat${u}`, `nat${u}-pw`)
  // 5 users each fail 9 times from the same address: 45 failures, but 5 (address, account) pairs.
  for (let u = 0; u < 5; u++) for (let i = 0; i < 9; i++) t.equal((await attempt(app, `nat${u}`, 'typo', nat)).statusCode, 400)
  for (let u = 0; u < 5; u++) t.equal((await attempt(app, `nat${u}`, `nat${u}-pw`, nat)).statusCode, 200, `nat${u} signs in`)
  // An attacker behind the same address: its failed accounts count (after the 5 above), and its own success
  // gives nothing back.
  for (let i = 0; i < ADDRESS_ACCOUNTS.max - 5 - 1; i++) t.equal((await attempt(app, `sprayed${i}`, 'x', nat)).statusCode, 400)
  t.equal((await attempt(app, 'nat0', 'nat0-pw', nat)).statusCode, 200, 'a success on an account of its own')
  t.equal((await attempt(app, 'sprayed-last', 'x', nat)).statusCode, 400, `account ${ADDRESS_ACCOUNTS.max}`)
  t.equal((await attempt(app, 'sprayed-next', 'x', nat)).statusCode, 429, 'the next new account waits: the success reset nothing')
})

t.test('P6: a 128-character password works; 1025 characters is invalid_request; 1 MB is refused in < 100 ms without hashing', async (t) => {
  const app = await build(t)
  const long128 = 'p'.repeat(127) + '!'
  await addUser(app, 'alice', long128)
  await passwordGrant(t, app, 'alice', long128)
  let hashes = 0
  const verify = app.passwords.verify
  app.passwords.verify = async (...args) => { hashes++; return verify(...args) }

  assertOAuthError(t, await app.inject(post(form({ grant_type: 'password', username: 'alice', password: 'x'.repeat(1025) }))),
    400, 'invalid_request', undefined, '1025-character password')

  const huge = post(form({ grant_type: 'password', username: 'alice', password: 'x'.repeat(1024 * 1024) }))
  const started = performance.now()
  const res = await app.inject(huge)
  const took = performance.now() - started
  assertOAuthError(t, res, 413, 'invalid_request', undefined, '1 MB password')
  t.ok(took < 100, `refused in ${took.toFixed(1)} ms (< 100 ms)`)
  t.equal(hashes, 0, 'no password was hashed for either')
})

import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { MemoryCounterStore, Throttle } from '../../../lib/limits/throttle.js'
import { ACCOUNT_FAILURES, SIGN_IN_LIMITS, introspectionLimits, signInKeys, upstreamStartLimits } from '../../../lib/oauth/brute-force.js'
import { reserveSignIn } from '../../../lib/oauth/sign-in-reservation.js'
import { manualClock } from '../../support/helper.js'

// One process's counters (lib/limits/throttle.ts, MemoryCounterStore): one bounded store per kind of counter, so
// anonymous traffic cannot push an account's failures out, and an account counter that cannot be stored refuses
// the sign-in instead of being forgotten.

/** Reserves and fails one sign-in of `username` from `address`; false when it was refused. */
async function fail (throttle: Throttle, username: string, address: string): Promise<boolean> {
  const attempt = await reserveSignIn(throttle, signInKeys(username, address), SIGN_IN_LIMITS)
  if (!('settle' in attempt)) return false
  await attempt.settle('failure')
  return true
}

const locked = async (throttle: Throttle, username: string, address: string) =>
  'retryAfter' in await reserveSignIn(throttle, signInKeys(username, address), SIGN_IN_LIMITS)

t.test('22.9: a flood of anonymous counters far past the cap leaves a locked account locked', async (t) => {
  const clock = manualClock()
  const store = new MemoryCounterStore(clock, 100)
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  for (let i = 0; i < ACCOUNT_FAILURES.max; i++) t.ok(await fail(throttle, 'victim', `192.0.2.${i}`), `guess ${i + 1} counted`)
  t.ok(await locked(throttle, 'victim', '192.0.2.200'), 'the account is locked')

  // 100,000 upstream starts from fresh addresses, scaled to this store's cap of 100: ten times the cap.
  for (let i = 0; i < 1000; i++) await throttle.take(upstreamStartLimits(`2001:db8:${i.toString(16)}::/64`))
  for (let i = 0; i < 1000; i++) await throttle.take(introspectionLimits(`client-${i}`))
  t.equal(store.sizeOf('request'), 100, 'the anonymous store is full (its oldest forgotten)')
  t.ok(await locked(throttle, 'victim', '192.0.2.201'), 'the account is still locked')
  t.ok(await locked(throttle, 'victim', '203.0.113.1'), 'from any address')
})

t.test('22.9: a flood of sign-in failures from fresh addresses forgets addresses, never the locked account', async (t) => {
  const clock = manualClock()
  const store = new MemoryCounterStore(clock, { account: 1000, address: 50, request: 50 })
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  for (let i = 0; i < ACCOUNT_FAILURES.max; i++) await fail(throttle, 'victim', '192.0.2.1')
  // Each attempt is one account from a fresh address: two address counters each (the address and the pair).
  for (let i = 0; i < 500; i++) await fail(throttle, `sprayed-${i}`, `2001:db8:${i.toString(16)}::/64`)
  t.equal(store.sizeOf('address'), 50, 'the address store is full')
  t.ok(await locked(throttle, 'victim', '192.0.2.2'), 'the account is still locked')
})

t.test('22.9: when every account counter is live, a sign-in that needs a new one is refused (503, Retry-After), nothing forgotten', async (t) => {
  const clock = manualClock()
  const warnings: string[] = []
  // Room for ten accounts' failures, and the in-flight mark of one more attempt on one of them.
  const store = new MemoryCounterStore(clock, 11, (message) => warnings.push(message))
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  // Ten accounts fail once each, a minute apart: ten live account counters, the first ending soonest.
  for (let i = 0; i < 10; i++) {
    t.ok(await fail(throttle, `user-${i}`, `198.51.100.${i}`))
    clock.advance(60)
  }
  t.equal(store.sizeOf('account'), 10)
  const refused = await reserveSignIn(throttle, signInKeys('user-10', '198.51.100.10'), SIGN_IN_LIMITS).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof OAuthError, 'refused, not admitted')
  const err = refused as OAuthError
  t.equal(err.statusCode, 503)
  t.equal(err.error, 'temporarily_unavailable')
  // The first counter started 600 s ago and lives 900 s: 300 s left.
  t.equal(err.headers['retry-after'], '300', 'Retry-After: until the soonest account counter ends')
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0], /LIMIT_COUNTERS_MAX/)
  for (let i = 0; i < 50; i++) await reserveSignIn(throttle, signInKeys(`other-${i}`, '198.51.100.10'), SIGN_IN_LIMITS).catch(() => {})
  t.equal(warnings.length, 1, 'still one warning for many refusals')

  t.equal(store.sizeOf('account'), 10, 'no account counter was forgotten to make room')
  for (let i = 0; i < 10; i++) {
    const again = await reserveSignIn(throttle, signInKeys(`user-${i}`, '198.51.100.20'), SIGN_IN_LIMITS)
    t.ok('settle' in again, `user-${i}, whose counter is live, can still try`)
    if ('settle' in again) await again.settle('release')
  }
  t.equal(store.sizeOf('account'), 10, 'and the release needed no room')

  clock.advance(301)
  const later = await reserveSignIn(throttle, signInKeys('user-10', '198.51.100.10'), SIGN_IN_LIMITS)
  t.ok('settle' in later, 'once the first counter has ended, a new account is admitted')
})

t.test('a success settles without room: giving back is never refused', async (t) => {
  const clock = manualClock()
  const store = new MemoryCounterStore(clock, 2)
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  const attempt = await reserveSignIn(throttle, signInKeys('alice', '192.0.2.1'), SIGN_IN_LIMITS)
  if (!('settle' in attempt)) throw new Error('refused')
  t.equal(store.sizeOf('account'), 2, 'the account and its in-flight mark fill the store')
  await attempt.settle('success')
  t.equal(store.sizeOf('account'), 0, 'settled: both gone')
})

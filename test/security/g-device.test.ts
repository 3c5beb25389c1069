import t from 'tap'
import { build, manualClock, post } from '../support/helper.js'
import { field, InjectBrowser } from '../support/browser.js'
import { approveOnPage, DEVICE_GRANT, deviceFixtures, pollToken, startDevice } from '../support/device.js'

// G: the device authorization grant (RFC 8628). Each case's exact answers; never a 5xx.

const noStore = (res: { headers: Record<string, unknown> }) => res.headers['cache-control'] === 'no-store'

t.test('G1: polling faster than the interval answers slow_down, and the interval grows by 5 s', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await deviceFixtures(app)
  const { device_code: code, interval } = await startDevice(app)
  t.equal(interval, 5)
  const first = await pollToken(app, code)
  t.equal(first.statusCode, 400)
  t.same(first.json().error, 'authorization_pending')
  t.ok(noStore(first))
  clock.advance(4)
  const fast = await pollToken(app, code)
  t.equal(fast.statusCode, 400)
  t.equal(fast.json().error, 'slow_down', '4 s after: slow_down (RFC 8628 §3.5)')
  clock.advance(9)
  t.equal((await pollToken(app, code)).json().error, 'slow_down', '9 s after: still too soon, the interval is 10 s')
  clock.advance(15)
  t.equal((await pollToken(app, code)).json().error, 'authorization_pending', 'at the grown interval (15 s): on time again')
  // Ten polls at once: one on time at most; the interval grows for each of the others, atomically.
  clock.advance(100)
  const burst = await Promise.all(Array.from({ length: 10 }, () => pollToken(app, code)))
  t.same(burst.map((r) => r.statusCode), Array(10).fill(400), 'no 5xx')
  t.equal(burst.filter((r) => r.json().error === 'authorization_pending').length, 1, 'one of ten at once is on time')
})

t.test('G1: a poll after expiry answers expired_token, and the page refuses the code', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await deviceFixtures(app)
  const started = await startDevice(app)
  clock.advance(600)
  const late = await pollToken(app, started.device_code)
  t.equal(late.statusCode, 400)
  t.equal(late.json().error, 'expired_token')
  const page = await approveOnPage(new InjectBrowser(app), started.user_code)
  t.equal(page.statusCode, 400, 'an expired code cannot be approved')
  t.match((await pollToken(app, started.device_code)).json(), { error: 'expired_token' })
})

t.test('G1: 1,000 user-code guesses from one address: the limit holds (429 page), no 5xx, no code approved', async (t) => {
  const app = await build(t)
  await deviceFixtures(app)
  const started = await startDevice(app)
  const browser = new InjectBrowser(app)
  const csrf = field((await browser.get('/device')).body, 'csrf')
  const statuses = new Map<number, number>()
  const letters = 'BCDFGHJKLMNPQRSTVWXZ'
  for (let i = 0; i < 1000; i++) {
    const guess = Array.from({ length: 8 }, (_, j) => letters[(i * 7 + j * 13) % 20]).join('')
    const res = await browser.post('/device', { user_code: guess, csrf })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
  }
  t.same([...statuses.keys()].sort(), [400, 429], 'wrong codes, then the limit; never a 5xx')
  t.equal(statuses.get(400), 20, 'exactly 20 tries looked at')
  const right = await browser.post('/device', { user_code: started.user_code, csrf })
  t.equal(right.statusCode, 429, 'past the limit even the right code waits')
  t.match(right.body, /Too many codes tried/)
  t.ok(Number(right.headers['retry-after']) > 0, 'Retry-After')
  t.match((await pollToken(app, started.device_code)).json(), { error: 'authorization_pending' }, 'nothing was approved')
  // Another address is not held back by this one.
  const other = await app.inject({ method: 'GET', url: '/device', remoteAddress: '198.51.100.7' })
  t.equal(other.statusCode, 200)
})

t.test('G1: the device code used twice after approval: tokens once, then invalid_grant (also at once)', async (t) => {
  const clock = manualClock()
  const app = await build(t, {}, { clock })
  await deviceFixtures(app)
  const started = await startDevice(app)
  t.match((await approveOnPage(new InjectBrowser(app), started.user_code)).body, /Device connected/)
  const polls = await Promise.all(Array.from({ length: 5 }, () => pollToken(app, started.device_code)))
  t.same(polls.map((r) => r.statusCode).sort(), [200, 400, 400, 400, 400], 'of five at once, one gets the tokens')
  // The others came too soon (slow_down) or after the redemption (invalid_grant), as the race fell: never tokens.
  t.ok(polls.filter((r) => r.statusCode === 400).every((r) => ['invalid_grant', 'slow_down'].includes(r.json().error)), 'the others: invalid_grant or slow_down')
  clock.advance(30)
  const again = await pollToken(app, started.device_code)
  t.equal(again.statusCode, 400)
  t.equal(again.json().error, 'invalid_grant', 'later: invalid_grant')
  t.match((await post(app, '/token', { grant_type: DEVICE_GRANT, device_code: started.device_code, client_id: 'tv' })).json(), { error: 'invalid_grant' })
})

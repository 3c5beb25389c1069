import t from 'tap'
import {
  DEVICE_CODE_GUESSES, devicePagePath, formatUserCode, isDevicePagePath, newUserCode, normaliseUserCode, pollAnswer, USER_CODE_ALPHABET
} from '../../../lib/oauth/device-codes.js'
import { localReturnTo } from '../../../lib/browser/return-to.js'
import type { DeviceCode } from '../../../lib/stores/types.js'

t.test('user codes: 8 letters of the 20 consonants, shown XXXX-XXXX, drawn from all of them', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 500; i++) {
    const code = newUserCode()
    t.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/)
    for (const letter of code) seen.add(letter)
  }
  t.equal(seen.size, USER_CODE_ALPHABET.length, 'every letter of the alphabet is used')
  t.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK')
})

t.test('normaliseUserCode: upper case, dashes and spaces dropped; anything else is not a code', async (t) => {
  t.equal(normaliseUserCode('BCDF-GHJK'), 'BCDFGHJK')
  t.equal(normaliseUserCode('bcdf ghjk'), 'BCDFGHJK')
  t.equal(normaliseUserCode(' b-c-d-f-g-h-j-k '), 'BCDFGHJK')
  for (const bad of ['BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ1', 'BCDF_GHJK', '', 'x'.repeat(100), undefined, 42, ['BCDFGHJK']]) {
    t.equal(normaliseUserCode(bad), undefined, `refused: ${String(bad).slice(0, 20)}`)
  }
})

t.test('the device page path: the one shape a sign-in may come back to', async (t) => {
  t.equal(devicePagePath('BCDFGHJK'), '/device?user_code=BCDF-GHJK')
  t.ok(isDevicePagePath('/device?user_code=BCDF-GHJK'))
  t.equal(localReturnTo('/device?user_code=BCDF-GHJK'), '/device?user_code=BCDF-GHJK', 'a local return target')
  for (const bad of ['/device', '/device?user_code=BCDF-GHJK&x=1', '/device?user_code=ABCD-EFGH', '//evil.test/device?user_code=BCDF-GHJK', '/device?user_code=BCDFGHJK']) {
    t.equal(localReturnTo(bad), undefined, bad)
  }
  t.ok(DEVICE_CODE_GUESSES.max <= 50, 'few guesses per address')
})

t.test('pollAnswer: expiry first, then a used code, then the pace, then the state', async (t) => {
  const now = 1_800_000_000
  const approval = { userId: 'u', scope: 'openid', authTime: now, amr: ['pwd'], sid: null, credentialVersion: 0 }
  const code = (over: Partial<DeviceCode> = {}): DeviceCode => ({
    hash: 'h', userCode: 'BCDFGHJK', clientId: 'tv', scope: '', resources: [], status: 'pending', approval: null, interval: 5, lastPollAt: null, createdAt: now, expiresAt: now + 600, ...over
  })
  t.same(pollAnswer(undefined, 'tv', now, false), { kind: 'invalid_grant' }, 'unknown')
  t.same(pollAnswer(code(), 'other', now, false), { kind: 'invalid_grant' }, 'another client\'s')
  t.same(pollAnswer(code(), 'tv', now, false), { kind: 'authorization_pending' })
  t.same(pollAnswer(code({ interval: 10 }), 'tv', now, true), { kind: 'slow_down', interval: 10 })
  t.same(pollAnswer(code({ status: 'denied' }), 'tv', now, false), { kind: 'access_denied' })
  t.same(pollAnswer(code({ status: 'denied' }), 'tv', now, true), { kind: 'slow_down', interval: 5 }, 'too fast is slow_down whatever the state')
  t.same(pollAnswer(code({ status: 'pending' }), 'tv', now + 600, true), { kind: 'expired_token' }, 'expired, even too fast')
  t.same(pollAnswer(code({ status: 'approved', approval }), 'tv', now + 600, false), { kind: 'expired_token' }, 'approved too late')
  t.same(pollAnswer(code({ status: 'used', approval }), 'tv', now, true), { kind: 'invalid_grant' }, 'used: invalid_grant, even too fast')
  t.match(pollAnswer(code({ status: 'approved', approval }), 'tv', now, false), { kind: 'approved', approval })
})

import t from 'tap'
import { secondFactorOutcome, type SecurityEvent } from '../../../lib/ops/events.js'

// The rule behind gatehouse_second_factor_total and …_enrolments_total: which events are a factor used or added.

t.test('second-factor events: accepted, refused, added; passkey events are passkeys; the others say nothing', async (t) => {
  const ip = '192.0.2.1'
  const cases: Array<[SecurityEvent, ReturnType<typeof secondFactorOutcome>]> = [
    [{ type: 'mfa_passed', userId: 'u', ip, factor: 'totp' }, { factor: 'totp', outcome: 'success' }],
    [{ type: 'mfa_passed', userId: 'u', ip, factor: 'recovery_code' }, { factor: 'recovery_code', outcome: 'success' }],
    [{ type: 'mfa_passed', userId: 'u', ip, factor: 'passkey' }, { factor: 'passkey', outcome: 'success' }],
    [{ type: 'mfa_failed', userId: 'u', ip, factor: 'totp' }, { factor: 'totp', outcome: 'failure' }],
    [{ type: 'mfa_failed', ip, factor: 'passkey' }, { factor: 'passkey', outcome: 'failure' }],
    [{ type: 'mfa_enrolled', userId: 'u', ip, factor: 'recovery_code' }, { factor: 'recovery_code', outcome: 'enrolled' }],
    [{ type: 'passkey_signin', userId: 'u', factorId: 'f', amr: 'hwk', step: 'signin', ip }, { factor: 'passkey', outcome: 'success' }],
    [{ type: 'passkey_registered', userId: 'u', factorId: 'f', ip }, { factor: 'passkey', outcome: 'enrolled' }],
    [{ type: 'mfa_removed', userId: 'u', ip, factor: 'totp' }, undefined],
    [{ type: 'factors_reset', actor: 'root', userId: 'u', scope: 'all', count: 2 }, undefined],
    [{ type: 'login_failed', username: 'u', clientId: 'c', ip }, undefined]
  ]
  for (const [event, expected] of cases) t.same(secondFactorOutcome(event), expected, JSON.stringify(event))
})

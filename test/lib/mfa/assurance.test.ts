import t from 'tap'
import { ACR_MFA, ACR_PWD, acrOf, asksForTwoFactors, usedTwoFactors, withSecondFactor } from '../../../lib/mfa/assurance.js'

t.test('amr after a second factor, and the acr it makes', async (t) => {
  t.same(withSecondFactor(['pwd'], 'otp'), ['pwd', 'otp', 'mfa'])
  t.same(withSecondFactor(['pwd', 'otp', 'mfa'], 'otp'), ['pwd', 'otp', 'mfa'], 'no repeats')
  t.same(withSecondFactor(['pwd', 'otp', 'mfa'], 'hwk'), ['pwd', 'otp', 'hwk', 'mfa'])
  t.equal(acrOf(['pwd']), ACR_PWD)
  t.equal(acrOf(withSecondFactor(['pwd'], 'swk')), ACR_MFA)
  t.equal(usedTwoFactors(['pwd', 'otp']), false, 'only mfa says two factors')
  t.equal(asksForTwoFactors(undefined), false)
  t.equal(asksForTwoFactors(ACR_PWD), false)
  t.equal(asksForTwoFactors(ACR_MFA), true)
  t.equal(asksForTwoFactors(`urn:example:gold ${ACR_MFA}`), true, 'unknown values ignored')
  t.equal(asksForTwoFactors(`${ACR_PWD} ${ACR_MFA}`), false, 'the one-factor class listed is acceptable (OIDC Core §3.1.2.1: any of them)')
  t.equal(asksForTwoFactors(`${ACR_MFA} ${ACR_PWD}`), false, 'preferred second, still acceptable')
  t.equal(asksForTwoFactors(`${ACR_MFA}x`), false, 'whole values only')
})

import t from 'tap'
import { newRecoveryCodes, RECOVERY_CODE_COUNT, recoveryCodeDigest, recoveryCodeInput } from '../../../lib/mfa/recovery-codes.js'

t.test('ten distinct codes, two groups of five from an alphabet without look-alikes', async (t) => {
  const codes = newRecoveryCodes()
  t.equal(codes.length, RECOVERY_CODE_COUNT)
  t.equal(RECOVERY_CODE_COUNT, 10)
  t.equal(new Set(codes).size, 10)
  for (const code of codes) t.match(code, /^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/)
  t.not(codes.join(), newRecoveryCodes().join(), 'another set each time')
})

t.test('typed input is forgiven case, spaces and dashes; anything else is no code', async (t) => {
  const [code] = newRecoveryCodes() as [string]
  const digest = recoveryCodeDigest(code)
  t.match(digest, /^[A-Za-z0-9_-]{43}$/, 'a SHA-256 digest, base64url')
  t.equal(recoveryCodeDigest(code.toUpperCase()), digest, 'upper case')
  t.equal(recoveryCodeDigest(` ${code.replace('-', ' ')} `), digest, 'a space for the dash, spaces around')
  t.equal(recoveryCodeDigest(code.replace('-', '')), digest, 'no dash')
  t.not(recoveryCodeDigest(newRecoveryCodes()[0]!), digest)
  t.equal(recoveryCodeInput('abcde-fghj'), undefined, 'nine characters')
  t.equal(recoveryCodeInput('abcde-fgh10'), undefined, 'a 1 and a 0: not in the alphabet')
  t.equal(recoveryCodeDigest('123456'), undefined, 'a TOTP code is no recovery code')
  t.not(digest, code, 'never the code itself')
})

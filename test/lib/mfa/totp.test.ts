import t from 'tap'
import { Secret, TOTP, URI } from 'otpauth'
import { matchingStep, newTotpSecret, totpCode, totpCodeInput, totpStep, totpUri } from '../../../lib/mfa/totp.js'

// RFC 6238 Appendix B, SHA-1, secret "12345678901234567890": the 8-digit codes' last 6 digits (truncation mod 10^6).
const RFC_SECRET = Secret.fromUTF8('12345678901234567890').base32
const VECTORS: Array<[number, string]> = [
  [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']
]

t.test('RFC 6238 test vectors (SHA-1, 30 s steps)', async (t) => {
  t.equal(RFC_SECRET, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
  for (const [time, code] of VECTORS) {
    t.equal(totpCode(RFC_SECRET, totpStep(time)), code.slice(2), `T=${time}`)
    t.equal(matchingStep(RFC_SECRET, code.slice(2), time), totpStep(time), `T=${time}: its own step`)
  }
})

t.test('one step of drift either way, the step that matched returned; two steps off refused', async (t) => {
  const secret = newTotpSecret()
  const now = 1_800_000_000
  const step = totpStep(now)
  t.equal(matchingStep(secret, totpCode(secret, step - 1), now), step - 1, 'the previous step')
  t.equal(matchingStep(secret, totpCode(secret, step + 1), now), step + 1, 'the next step')
  t.equal(matchingStep(secret, totpCode(secret, step - 2), now), undefined, 'two steps ago')
  t.equal(matchingStep(secret, totpCode(secret, step + 2), now), undefined, 'two steps ahead')
  t.equal(matchingStep(secret, '123 456'.replace(/./g, 'x'), now), undefined, 'not digits')
  t.equal(matchingStep(secret, totpCode(secret, step).replace(/^(...)/, '$1 '), now), step, 'a space inside is forgiven')
})

t.test('code input: six digits once spaces and dashes are dropped', async (t) => {
  t.equal(totpCodeInput(' 123-456 '), '123456')
  t.equal(totpCodeInput('12345'), undefined)
  t.equal(totpCodeInput('1234567'), undefined)
  t.equal(totpCodeInput('12345a'), undefined)
})

t.test('a new secret: 20 random bytes (32 base32 characters), another each time', async (t) => {
  const a = newTotpSecret()
  t.match(a, /^[A-Z2-7]{32}$/)
  t.equal(Secret.fromBase32(a).bytes.length, 20)
  t.not(a, newTotpSecret())
})

t.test('the otpauth URI: issuer and username, SHA1, 6 digits, 30 s; an app reading it makes our codes', async (t) => {
  const secret = newTotpSecret()
  const uri = totpUri({ issuer: 'Example Co', username: 'alice', secret })
  t.match(uri, /^otpauth:\/\/totp\/Example%20Co:alice\?/)
  const parsed = URI.parse(uri)
  t.ok(parsed instanceof TOTP)
  const totp = parsed as TOTP
  t.equal(totp.issuer, 'Example Co')
  t.equal(totp.label, 'alice')
  t.equal(totp.algorithm, 'SHA1')
  t.equal(totp.digits, 6)
  t.equal(totp.period, 30)
  t.equal(totp.secret.base32, secret)
  const now = 1_800_000_015
  t.equal(totp.generate({ timestamp: now * 1000 }), totpCode(secret, totpStep(now)))
})

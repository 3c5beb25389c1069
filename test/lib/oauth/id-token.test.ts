import t from 'tap'
import { idTokenClaims, type IdTokenInput } from '../../../lib/oauth/id-token.js'
import { ACR_MFA, ACR_PWD } from '../../../lib/mfa/assurance.js'

// The ID token's claims (lib/oauth/id-token.ts): `amr` as the sign-in gave it, `acr` from it (OIDC Core §2, RFC 8176).

const input: IdTokenInput = { issuer: 'https://gatehouse.test', sub: 'u-1', clientId: 'web', now: 1000, ttl: 300, authTime: 990, nonce: null, accessToken: 'at' }

t.test('amr is the sign-in\'s, acr says whether it shows two factors', async (t) => {
  t.match(idTokenClaims({ ...input, amr: ['pwd'] }), { amr: ['pwd'], acr: ACR_PWD }, 'a password')
  t.match(idTokenClaims({ ...input, amr: ['pwd', 'otp', 'mfa'] }), { amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA }, 'a password and a code')
  t.match(idTokenClaims({ ...input, amr: ['hwk', 'user', 'mfa'] }), { amr: ['hwk', 'user', 'mfa'], acr: ACR_MFA }, 'a passkey with user verification')
  t.match(idTokenClaims({ ...input, amr: ['fed', 'mfa'] }), { amr: ['fed', 'mfa'], acr: ACR_MFA }, 'an upstream provider that reported two factors')
  t.match(idTokenClaims({ ...input, amr: ['fed'] }), { acr: ACR_PWD }, 'one that did not')
})

t.test('no amr known (a code from before codes kept it, an upstream sign-in that named none): no amr claim, acr one factor', async (t) => {
  for (const amr of [undefined, []]) {
    const claims = idTokenClaims({ ...input, ...(amr === undefined ? {} : { amr }) })
    t.notOk('amr' in claims, `amr ${JSON.stringify(amr)}: left out (RFC 8176 values are never empty)`)
    t.equal(claims.acr, ACR_PWD)
  }
})

t.test('a user claim cannot stand in for amr or acr', async (t) => {
  const claims = idTokenClaims({ ...input, amr: ['pwd'], userClaims: { acr: ACR_MFA, amr: ['mfa'] } })
  t.same(claims.amr, ['pwd'])
  t.equal(claims.acr, ACR_PWD)
  t.notOk('amr' in idTokenClaims({ ...input, userClaims: { amr: ['mfa'] } }), 'nor when the sign-in named none')
})

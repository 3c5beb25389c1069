import t from 'tap'
import { passwordGrantRefusal } from '../../../lib/oauth/grants/password-mfa.js'
import { clientRecord } from '../../support/records.js'

// The password grant and second factors (lib/oauth/grants/password-mfa.ts): refused wherever the browser would ask
// for a factor, unless the client skips it.

const plain = clientRecord()

t.test('served when nothing asks for a second factor', async (t) => {
  t.equal(passwordGrantRefusal({ client: plain, mfa: 'optional', factors: 0 }), undefined)
})

t.test('refused for a user with a factor, under MFA=required, for a --require-mfa client; each says why', async (t) => {
  t.match(passwordGrantRefusal({ client: plain, mfa: 'optional', factors: 1 }), /^a second factor is required for this user, which the password grant cannot check: sign in through the browser/)
  t.match(passwordGrantRefusal({ client: plain, mfa: 'required', factors: 0 }), /^this server requires a second factor/)
  t.match(passwordGrantRefusal({ client: clientRecord({ requireMfa: true }), mfa: 'optional', factors: 0 }), /^this client requires a second factor/)
  t.match(passwordGrantRefusal({ client: clientRecord({ requireMfa: true }), mfa: 'required', factors: 2 }), /for this user/, 'the user\'s own factor is named first')
})

t.test('a client that skips it (legacy) is served in every case', async (t) => {
  const legacy = clientRecord({ passwordGrantSkipsMfa: true, requireMfa: true })
  for (const [mfa, factors] of [['optional', 0], ['optional', 3], ['required', 0], ['required', 1]] as const) {
    t.equal(passwordGrantRefusal({ client: legacy, mfa, factors }), undefined, `MFA=${mfa}, ${factors} factors`)
  }
})

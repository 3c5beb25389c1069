import t from 'tap'
import { CONSOLE_IDLE_SECONDS, CONSOLE_MAX_SECONDS, CONSOLE_TOUCH_SECONDS, consoleExpiry, touchDue } from '../../../lib/console/sessions.js'
import { consoleClientDrift, consoleClientFields } from '../../../lib/console/client.js'
import type { Client } from '../../../lib/stores/types.js'

t.test('a console session expires idle or at its maximum, whichever is first', async (t) => {
  t.equal(consoleExpiry(0, 0), CONSOLE_IDLE_SECONDS)
  t.equal(consoleExpiry(0, 3600), 3600 + CONSOLE_IDLE_SECONDS)
  t.equal(consoleExpiry(0, CONSOLE_MAX_SECONDS - 60), CONSOLE_MAX_SECONDS, 'never past the maximum')
})

t.test('the deadline is written at most once a minute', async (t) => {
  const session = { createdAt: 0, expiresAt: CONSOLE_IDLE_SECONDS }
  t.notOk(touchDue(session, CONSOLE_TOUCH_SECONDS - 1))
  t.ok(touchDue(session, CONSOLE_TOUCH_SECONDS))
  t.notOk(touchDue({ createdAt: 0, expiresAt: CONSOLE_MAX_SECONDS }, CONSOLE_MAX_SECONDS - 10), 'at the maximum: nothing to move')
})

t.test('the console client: what differs from the row it needs is put right; a confidential one is refused', async (t) => {
  const fields = consoleClientFields('https://id.example/')
  t.same(fields.redirectUris, ['https://id.example/console/callback'])
  const row = { ...fields, id: 'gatehouse-console' } as unknown as Client
  t.same(consoleClientDrift(row, 'https://id.example'), {})
  t.same(consoleClientDrift(row, 'https://new.example'), { redirectUris: ['https://new.example/console/callback'] })
  t.same(consoleClientDrift({ ...row, scope: 'openid', skipConsent: false }, 'https://id.example'), { scope: 'openid admin', skipConsent: true })
  t.throws(() => consoleClientDrift({ ...row, isPublic: false }, 'https://id.example'), /confidential/)
})

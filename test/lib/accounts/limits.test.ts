import { test } from 'tap'
import { accountLimits, ADDRESS_ACTIONS, EMAIL_MESSAGES, takeAccountLimit } from '../../../lib/accounts/limits.js'
import { MemoryCounterStore, Throttle } from '../../../lib/limits/throttle.js'

test('per address per action, per e-mail across actions; keys never hold the address or the e-mail', async (t) => {
  const limits = accountLimits('signup', '203.0.113.7', ' Alice@Example.com ')
  t.equal(limits.length, 2)
  t.notOk(JSON.stringify(limits).includes('203.0.113.7'))
  t.notOk(JSON.stringify(limits).toLowerCase().includes('alice'))
  const other = accountLimits('forgot_password', '203.0.113.7', 'alice@example.com')
  t.not(limits[0]!.key, other[0]!.key, 'each action has its own address counter')
  t.equal(limits[1]!.key, other[1]!.key, 'one counter for the messages to an e-mail, whatever the action or the case')
  t.equal(accountLimits('signup', '203.0.113.7', null).length, 1)
})

test('beyond either limit the answer is a wait; under it, undefined', async (t) => {
  const store = new MemoryCounterStore()
  t.teardown(() => store.close())
  const throttle = new Throttle(store)
  for (let i = 0; i < EMAIL_MESSAGES.max; i++) t.equal(await takeAccountLimit(throttle, 'forgot_password', '198.51.100.1', 'bob@example.com'), undefined)
  t.ok((await takeAccountLimit(throttle, 'signup', '198.51.100.2', 'BOB@example.com'))! > 0, 'the e-mail limit holds across actions and addresses')
  for (let i = 0; i < ADDRESS_ACTIONS.max; i++) t.equal(await takeAccountLimit(throttle, 'signup', '198.51.100.3', `u${i}@example.com`), undefined)
  t.ok((await takeAccountLimit(throttle, 'signup', '198.51.100.3', 'fresh@example.com'))! > 0, 'the address limit holds across e-mails')
})

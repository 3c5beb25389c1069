import t from 'tap'
import { doneMessage } from '../../../lib/console/done.js'

t.test('a done query: its message, or nothing for an unknown or inherited key', async (t) => {
  const messages = { update: 'Saved.' }
  t.equal(doneMessage(messages, 'update'), 'Saved.')
  t.equal(doneMessage(messages, 'nope'), undefined)
  for (const inherited of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) t.equal(doneMessage(messages, inherited), undefined, inherited)
  t.equal(doneMessage(messages, undefined), undefined)
  t.equal(doneMessage(messages, ['update']), undefined, 'a repeated query (an array) is not a key')
})

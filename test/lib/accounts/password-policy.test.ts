import { test } from 'tap'
import { isCommonPassword, MIN_PASSWORD_LENGTH, passwordProblem } from '../../../lib/accounts/password-policy.js'
import { MAX_PASSWORD_LENGTH } from '../../../schemas/common.js'

test('length: at least 8 code points, at most 1,024, never truncated', async (t) => {
  t.match(passwordProblem('7 chars'), /at least 8/)
  t.equal(passwordProblem('tr0ub4dor&3x'), undefined)
  // Eight code points made of surrogate pairs count as eight, not sixteen.
  t.equal(passwordProblem('🦊🐙🦉🐝🦔🦋🐢🐬'), undefined)
  t.match(passwordProblem('🦊🐙🦉🐝'), /at least 8/, 'four emoji are four characters, however many UTF-16 units')
  t.equal(passwordProblem('a'.repeat(MAX_PASSWORD_LENGTH - 3) + 'xyz'), undefined)
  t.match(passwordProblem('q'.repeat(MAX_PASSWORD_LENGTH + 1)), /at most 1024/)
  t.equal(MIN_PASSWORD_LENGTH, 8)
})

test('no composition rules: a long phrase of lowercase words passes', async (t) => {
  t.equal(passwordProblem('correct horse battery staple glacier'), undefined)
})

test('common and breached passwords are refused, whatever their case', async (t) => {
  for (const p of ['password', 'PASSWORD', 'Password1', '12345678', 'qwertyuiop', 'iloveyou']) {
    t.ok(isCommonPassword(p), p)
    t.match(passwordProblem(p), /too common/, p)
  }
  t.notOk(isCommonPassword('gatehouse-7f3k-wobble'))
})

test('the username and the e-mail (or its local part) are refused', async (t) => {
  t.match(passwordProblem('alice.liddell', { username: 'alice.liddell' }), /username or e-mail/)
  t.match(passwordProblem('Alice.Wonder@example.com', { email: 'alice.wonder@example.com' }), /username or e-mail/)
  t.match(passwordProblem('alice.wonder', { email: 'alice.wonder@example.com' }), /username or e-mail/)
  t.equal(passwordProblem('alice.wonder', { username: 'bob', email: null }), undefined)
})

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { looksLikeUserId, subjectKind } from '../../../lib/oauth/subjects.js'

// RFC 9068 §5: a client's own token and a user's token must never be confused.

t.test('looksLikeUserId: UUIDs of any version and case, nothing else', async (t) => {
  for (const id of [randomUUID(), randomUUID().toUpperCase(), '00000000-0000-0000-0000-000000000000', '6ba7b810-9dad-11d1-80b4-00c04fd430c8']) t.ok(looksLikeUserId(id), id)
  for (const id of ['svc', 'web-client', `${randomUUID()}x`, ` ${randomUUID()}`, randomUUID().replaceAll('-', ''), '6ba7b810-9dad-11d1-80b4-00c04fd430cg']) t.notOk(looksLikeUserId(id), id)
})

t.test('subjectKind: the sub_kind mark decides whenever it is there', async (t) => {
  t.equal(subjectKind({ sub: 'svc', client_id: 'svc', sub_kind: 'user' }), 'user', 'a mark of user wins over sub = client_id')
  t.equal(subjectKind({ sub: randomUUID(), client_id: 'web', sub_kind: 'client' }), 'client')
})

t.test('subjectKind: a token without the mark is a client\'s own only when sub = client_id and is not shaped like a user id', async (t) => {
  t.equal(subjectKind({ sub: 'svc', client_id: 'svc' }), 'client')
  t.equal(subjectKind({ sub: randomUUID(), client_id: 'web' }), 'user')
  const id = randomUUID()
  t.equal(subjectKind({ sub: id, client_id: id }), 'user', 'a client id shaped like a user id never makes a client token')
  t.equal(subjectKind({ sub: 'svc', client_id: 'other' }), 'user')
  for (const mark of ['CLIENT', 'admin', 1, null]) t.equal(subjectKind({ sub: 'svc', client_id: 'svc', sub_kind: mark }), 'client', `an unknown mark ${JSON.stringify(mark)} is ignored`)
  t.equal(subjectKind({ sub: 'svc', client_id: 'web', sub_kind: 'CLIENT' }), 'user')
})

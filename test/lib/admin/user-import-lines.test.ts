import t from 'tap'
import { openSqlite } from '../../../lib/stores/sqlite/index.js'
import { exportUsers, ImportInterrupted, importUsers, parseImportLine } from '../../../lib/admin/user-import.js'
import { hashLimits } from '../../../lib/credentials/hash-limits.js'
import { claimsView } from '../../../lib/admin/user-claims.js'
import { manualClock } from '../../support/helper.js'

/**
 * The import's reading of JSON Lines, without a CLI or a server: lines split anywhere between chunks,
 * CRLF, multi-byte characters, the line-length and body limits, and an interruption.
 */
const deps = () => {
  const storage = openSqlite('sqlite::memory:')
  return { storage, clock: manualClock(), config: { accessTokenTtl: 900, argon2MemoryKib: 19456, argon2TimeCost: 2, argon2Parallelism: 1 } }
}
/** What a sign-in may spend at the production argon2 cost. */
const LIMITS = hashLimits({ memoryCost: 19456, timeCost: 2 })
const user = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ username: name, password_hash: null, ...extra })

async function * chunks (parts: Array<string | Buffer>) {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part
}

t.test('a file split at every byte position reads the same', async (t) => {
  const text = [user('a', { full_name: 'Ünïcødé ✓ 名前' }), user('b'), '', user('c', { email: 'c@example.test' })].join('\r\n') + '\r\n'
  const bytes = Buffer.from(text)
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = deps()
    const summary = await importUsers(d, chunks([bytes.subarray(0, cut), bytes.subarray(cut)]))
    if (summary.imported !== 3 || summary.rejected_count !== 0) {
      t.fail(`cut at ${cut}: ${JSON.stringify(summary)}`)
      return
    }
    t.equal((await d.storage.users.findByUsername('a'))?.fullName, 'Ünïcødé ✓ 名前')
    await d.storage.close()
  }
  t.pass(`${bytes.length + 1} ways of cutting it, each read whole`)
})

t.test('line length: up to the limit is read, one byte more is rejected, whatever the chunks', async (t) => {
  const limit = 200
  const fits = user('fits', { full_name: '' })
  const padded = (n: number) => user('x', { full_name: 'y'.repeat(n - user('x', { full_name: '' }).length) })
  const exact = padded(limit)
  const over = padded(limit + 1).replace('"x"', '"z"')
  t.equal(Buffer.byteLength(exact), limit)
  const text = `${fits}\n${exact}\r\n${over}\n${over.replace('"z"', '"w"')}`
  for (const size of [1, 7, 64, 1000]) {
    const d = deps()
    const parts = []
    for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size))
    const summary = await importUsers(d, chunks(parts), { maxLineBytes: limit })
    t.same(summary, { imported: 2, updated: 0, skipped: 0, rejected: [{ line: 3, reason: 'longer than 200 bytes' }, { line: 4, reason: 'longer than 200 bytes' }], rejected_count: 2, committed_lines: 4, resume_from_line: null }, `chunks of ${size}`)
    await d.storage.close()
  }
})

t.test('the body limit stops the import with a 413; the batches before it stay', async (t) => {
  const d = deps()
  const lines = Array.from({ length: 30 }, (_, i) => user(`u${String(i).padStart(2, '0')}`) + '\n')
  const err = await importUsers(d, chunks(lines), { maxBytes: 20 * lines[0]!.length + 5, batchSize: 10 }).catch((e: unknown) => e)
  t.match(err, { statusCode: 413, error: 'invalid_request', message: /larger than \d+ bytes/ }, '413 invalid_request')
  t.equal(await d.storage.users.count(), 20, 'two whole batches, nothing of the third')
  // 22.12: the answer says how far it got, in the body and in the message (the CLI's line).
  const body = (err as { body: () => Record<string, unknown> }).body()
  t.match(body, { error: 'invalid_request', error_description: /^the request body is larger than \d+ bytes$/, imported: 20, rejected_count: 0, committed_lines: 20, resume_from_line: 21 })
  t.match((err as Error).message, /larger than \d+ bytes; committed_lines 20, resume_from_line 21: /)
})

t.test('an abort stops after the batch in flight, and says how far it got', async (t) => {
  const d = deps()
  const controller = new AbortController()
  let batches = 0
  const lines = Array.from({ length: 50 }, (_, i) => user(`u${i}`) + '\n')
  const run = importUsers(d, chunks(lines), { batchSize: 10, signal: controller.signal, onProgress: () => { if (++batches === 2) controller.abort() } })
  const err = await run.catch((e: unknown) => e)
  t.ok(err instanceof ImportInterrupted, 'ImportInterrupted')
  t.match((err as ImportInterrupted).progress, { lines: 20, imported: 20 })
  t.match((err as Error).message, /^interrupted after line 20 \(20 imported.*committed_lines 20, resume_from_line 21/)
  t.equal(await d.storage.users.count(), 20)
})

t.test('22.12: an unexpected failure part-way is a 500 that says where to resume, its detail only in the message', async (t) => {
  const d = deps()
  let calls = 0
  const importBatch = d.storage.users.importBatch.bind(d.storage.users)
  d.storage.users.importBatch = async (users, options) => { if (++calls === 3) throw new Error('disk I/O error at /var/lib/x'); return importBatch(users, options) }
  const lines = Array.from({ length: 30 }, (_, i) => user(`u${i}`, i === 4 ? { email: 'nope' } : {}) + '\n')
  const err = await importUsers(d, chunks(lines), { batchSize: 10 }).catch((e: unknown) => e) as { statusCode: number, body: () => Record<string, unknown>, message: string }
  t.equal(err.statusCode, 500)
  t.same(err.body(), { error: 'server_error', error_description: 'an unexpected error occurred', imported: 19, updated: 0, skipped: 0, rejected: [{ line: 5, reason: 'email: not an email address' }], rejected_count: 1, committed_lines: 20, resume_from_line: 21 })
  t.match(err.message, /^disk I\/O error at \/var\/lib\/x; committed_lines 20, resume_from_line 21/)
})

t.test('parseImportLine: types and values', async (t) => {
  const hash = '$2b$04$w2tqJphYQqqg75ist2hs..o2A4Awl83dpTbGSRHhZKB.DNKBkiqxq'
  t.same(parseImportLine(JSON.stringify({ username: 'a', password_hash: hash, scope: ' b  a b ', disabled: true, full_name: null, email: null }), LIMITS),
    { username: 'a', passwordHash: hash, scope: 'b a', disabled: true, fullName: null, email: null })
  // A user of an upstream provider: its export carries the unusable marker, and imports elsewhere as it was.
  t.match(parseImportLine(JSON.stringify({ username: 'vera', password_hash: '!upstream' }), LIMITS), { username: 'vera', passwordHash: '!upstream' })
  t.match(parseImportLine(JSON.stringify({ username: 'vera', password_hash: '!other' }), LIMITS), /^password_hash: /, 'no other marker')
  const reasons: Array<[unknown, string | RegExp]> = [
    [{ username: 'a', password_hash: 42 }, /^password_hash: must be a string/],
    [{ username: 7, password_hash: null }, /^username: must match/],
    [{ username: 'a', password_hash: null, disabled: 'true' }, 'disabled: must be true or false'],
    [{ username: 'a', password_hash: null, scope: ['a'] }, 'scope: must be a string'],
    [{ username: 'a', password_hash: null, scope: 'a"b' }, /^scope: /],
    [{ username: 'a', password_hash: null, scope: 'a '.repeat(1025) }, 'scope: longer than 2048 characters'],
    [{ username: 'a', password_hash: null, full_name: 'x'.repeat(257) }, /^full name: at most 256/],
    [{ username: 'a', password_hash: null, email: 5 }, 'email: must be a string or null'],
    [{ username: 'a', password_hash: null, sub: 'A1B2C3D4-0000-4000-8000-000000000000' }, 'sub: must be a lowercase UUID'],
    [{ username: 'a', password_hash: null, ['x'.repeat(100)]: 1 }, `unknown field "${'x'.repeat(40)}"`],
    ['null', 'not a JSON object']
  ]
  for (const [value, reason] of reasons) {
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    const result = parseImportLine(text, LIMITS)
    if (typeof reason === 'string') t.equal(result, reason, text.slice(0, 60))
    else t.match(result, reason, text.slice(0, 60))
  }
  t.equal(parseImportLine('{"username":"a","password_hash":null,"__proto__":{"admin":true}}', LIMITS), 'unknown field "__proto__"', 'a literal __proto__ key is an unknown field')
})

t.test('claims: an optional object, checked like the admin API\'s; an export carries them and imports back the same', async (t) => {
  const claims = { given_name: 'Alice', zoneinfo: 'Europe/London', address: { country: 'GB' }, email_verified: true }
  t.match(parseImportLine(user('alice', { claims }), LIMITS), { username: 'alice', claims })
  t.match(parseImportLine(user('alice', { claims: { shoe_size: 9 } }), LIMITS), /^claims: unknown claim shoe_size/)
  t.match(parseImportLine(user('alice', { claims: { picture: 'ftp://x.test/a.png' } }), LIMITS), /^claims.picture: must be an http or https URL/)
  t.match(parseImportLine(user('alice', { claims: 'given_name=Alice' }), LIMITS), /^claims: must be a JSON object/)

  const from = deps()
  t.equal((await importUsers(from, chunks([[user('alice', { claims }), user('bob')].join('\n')]))).imported, 2)
  const lines: string[] = []
  for await (const line of exportUsers(from.storage)) lines.push(line)
  t.same(JSON.parse(lines[0]!).claims, claims, 'exported')
  t.notOk('claims' in JSON.parse(lines[1]!), 'a user without claims exports none')
  const to = deps()
  t.equal((await importUsers(to, chunks([lines.join('\n')]))).imported, 2)
  const alice = (await to.storage.users.findByUsername('alice'))!
  t.same(claimsView(alice), claims, 'the round trip keeps them')
  t.equal(alice.emailVerified, true, 'email_verified in its own column')
  t.notOk('email_verified' in alice.claims, 'and only there')
  t.same((await to.storage.users.findByUsername('bob'))?.claims, {})
})

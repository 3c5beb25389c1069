import t from 'tap'
import { hash as argon2Hash } from '@node-rs/argon2'
import { createPasswordHasher } from '../../../lib/credentials/passwords.js'

// The production parameters (OWASP's argon2id minimum), which every other test lowers for speed.
const PRODUCTION = { memoryCost: 19456, timeCost: 2, parallelism: 1 }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed (fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

t.test('argon2id at the production parameters', async (t) => {
  const passwords = await createPasswordHasher(PRODUCTION)
  const stored = await passwords.hash('correct horse')
  t.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, 'a PHC string: argon2id, m=19456, t=2, p=1')
  t.not(await passwords.hash('correct horse'), stored, 'salted: the same password hashes differently')

  t.same(await passwords.verify(stored, 'correct horse'), { ok: true, needsRehash: false })
  t.same(await passwords.verify(stored, 'correct horsE'), { ok: false, needsRehash: false })
  t.same(await passwords.verify(stored, ''), { ok: false, needsRehash: false })
  t.same(await passwords.verify(null, 'correct horse'), { ok: false, needsRehash: false }, 'no stored hash never verifies')
  t.same(await passwords.verify('not a hash', 'correct horse'), { ok: false, needsRehash: false }, 'a corrupt hash does not verify (and does not throw)')
  t.same(await passwords.verify('', ''), { ok: false, needsRehash: false })
})

t.test('verify(null) costs about as much as a real verify (no user-enumeration shortcut)', async (t) => {
  const passwords = await createPasswordHasher(PRODUCTION)
  const stored = await passwords.hash('correct horse')
  await passwords.verify(stored, 'warm up')
  const real: number[] = []
  const none: number[] = []
  for (let i = 0; i < 5; i++) {
    real.push(await timed(() => passwords.verify(stored, 'wrong password')))
    none.push(await timed(() => passwords.verify(null, 'wrong password')))
  }
  // Loose on purpose: only a missing dummy verify (orders of magnitude faster) can fail this.
  t.ok(median(none) > 0.3 * median(real), `verify(null) ${median(none).toFixed(1)} ms vs real ${median(real).toFixed(1)} ms`)
})

t.test('needsRehash when the stored parameters differ from the configured ones', async (t) => {
  const current = await createPasswordHasher(PRODUCTION)
  const older = await createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 })
  const stronger = await createPasswordHasher({ ...PRODUCTION, timeCost: 3 })
  const oldHash = await older.hash('pw')
  t.same(await current.verify(oldHash, 'pw'), { ok: true, needsRehash: true }, 'lower memory and time cost')
  t.same(await current.verify(oldHash, 'wrong'), { ok: false, needsRehash: false }, 'only a successful verify asks for a rehash')
  t.same(await current.verify(await stronger.hash('pw'), 'pw'), { ok: true, needsRehash: true }, 'another time cost, even a higher one')
  const parallel = await argon2Hash('pw', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 2 })
  t.same(await current.verify(parallel, 'pw'), { ok: true, needsRehash: true }, 'another parallelism')
  const argon2i = await argon2Hash('pw', { algorithm: 1, ...PRODUCTION })
  t.match(argon2i, /^\$argon2i\$/)
  t.same(await current.verify(argon2i, 'pw'), { ok: true, needsRehash: true }, 'argon2i is upgraded to argon2id')
  t.same(await current.verify(await current.hash('pw'), 'pw'), { ok: true, needsRehash: false }, 'current parameters: no rehash')
})

t.test('hashing runs off the event loop', async (t) => {
  const passwords = await createPasswordHasher(PRODUCTION)
  let last = performance.now()
  let maxGap = 0
  let ticks = 0
  const timer = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks++
  }, 5)
  const started = performance.now()
  await Promise.all(Array.from({ length: 10 }, (_, i) => passwords.hash(`password ${i}`)))
  const elapsed = performance.now() - started
  clearInterval(timer)
  // Hashing on the event loop would run all ten inside Promise.all's map: zero ticks until the end.
  t.ok(ticks >= Math.floor(elapsed / 50), `the timer kept ticking (${ticks} ticks in ${elapsed.toFixed(0)} ms)`)
  t.ok(maxGap < 200, `longest event-loop gap ${maxGap.toFixed(1)} ms during 10 concurrent hashes`)
})

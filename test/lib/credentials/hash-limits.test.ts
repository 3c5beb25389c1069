import t from 'tap'
import { hash as bcryptHash } from '@node-rs/bcrypt'
import { pbkdf2Sync } from 'node:crypto'
import { checkHash, identifyHash } from '../../../lib/credentials/password-formats.js'
import { costUnits, hashLimits, MIN_LOGIN_UNITS } from '../../../lib/credentials/hash-limits.js'
import { createPasswordHasher } from '../../../lib/credentials/passwords.js'

/**
 * 22.5: what one verification may cost, derived from the configured argon2id cost (lib/credentials/hash-limits.ts):
 * imported hashes beyond it are refused with a reason, and a stored one beyond it is never run at sign-in.
 */

const PRODUCTION = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const LIMITS = hashLimits(PRODUCTION)
/** Salt and digest of the right shape: the cost is read from the parameters, never by running the hash. */
const SALT = 'c2FsdHNhbHRzYWx0c2FsdA'
const DIGEST = 'aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
const argon2 = (m: number, t: number, p = 1, variant = 'argon2id') => `$${variant}$v=19$m=${m},t=${t},p=${p}$${SALT}$${DIGEST}`
const bcrypt = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${'C'.repeat(22)}${'D'.repeat(31)}`
const ab64 = (b: Buffer) => b.toString('base64').replace(/\+/g, '.').replace(/=+$/, '')
const passlib = (iterations: number, digest: 'sha256' | 'sha512' = 'sha256', keyBytes = 32) =>
  `$pbkdf2-${digest}$${iterations}$${ab64(Buffer.alloc(16, 1))}$${ab64(Buffer.alloc(keyBytes, 2))}`
const django = (iterations: number) => `pbkdf2_sha256$${iterations}$saltsaltsalt$${Buffer.alloc(32, 3).toString('base64')}`

const refused = (hash: string) => {
  const info = checkHash(hash, LIMITS)
  return 'error' in info ? info.error : undefined
}

t.test('22.5: at the production cost, what takes a minute or a gigabyte is refused, with a reason that names the bound; what others write by default is not', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['bcrypt cost 16 (~4 s a verify)', bcrypt(16), /^bcrypt cost 16 is above 13, more than a sign-in may spend/],
    ['bcrypt cost 31 (a day)', bcrypt(31), /^bcrypt cost 31 is above 13/],
    ['PBKDF2-SHA256 at 10^8 iterations, passlib (~30 s)', passlib(100_000_000), /^PBKDF2-SHA256 iterations 100000000 are above \d+ for a 32-byte key/],
    ['PBKDF2-SHA256 at 10^8 iterations, Django', django(100_000_000), /^PBKDF2-SHA256 iterations 100000000 are above/],
    ['PBKDF2-SHA512 at 10^7 iterations', passlib(10_000_000, 'sha512', 64), /^PBKDF2-SHA512 iterations 10000000 are above/],
    ['argon2id m=4 GiB, t=50', argon2(4 * 1024 * 1024, 50), /^argon2 memory 4194304 KiB is above 262144 KiB/],
    ['argon2id m=1 GiB, t=64 (the ~83 s of the finding)', argon2(1024 * 1024, 64, 4), /^argon2 memory 1048576 KiB is above/],
    ['argon2id m=64 MiB, t=50', argon2(65536, 50), /^argon2 cost m=65536,t=50 is above m × t = 2097152/],
    ['argon2i m=256 MiB, t=64', argon2(262144, 64, 1, 'argon2i'), /^argon2 cost m=262144,t=64 is above/],
    ['argon2id p=17', argon2(65536, 1, 17), /^argon2 parallelism 17 is above 16/]
  ]
  for (const [label, hash, reason] of cases) {
    t.match(refused(hash), reason, label)
    t.notOk('error' in identifyHash(hash), `${label}: a well-formed hash all the same (identified, only too costly)`)
  }
  // What the systems Gatehouse imports from write by default stays within the bounds.
  const accepted: Array<[string, string]> = [
    ['bcrypt 12 (passlib, the FastAPI tutorial)', bcrypt(12)],
    ['bcrypt 13', bcrypt(13)],
    ['bcrypt 4', bcrypt(4)],
    ['Django 6.0 PBKDF2-SHA256, 1,200,000 iterations', django(1_200_000)],
    ['passlib PBKDF2-SHA256, 29,000', passlib(29_000)],
    ['Keycloak PBKDF2-SHA512, 210,000', passlib(210_000, 'sha512', 64)],
    ['Keycloak PBKDF2-SHA256 with a 64-byte key, 27,500', passlib(27_500, 'sha256', 64)],
    ['argon2-cffi / pwdlib, m=64 MiB t=3 p=4', argon2(65536, 3, 4)],
    ['Keycloak argon2, m=7 MiB t=5', argon2(7168, 5)],
    ['Gatehouse at OWASP\'s minimum', argon2(19456, 2)]
  ]
  for (const [label, hash] of accepted) t.equal(refused(hash), undefined, label)
})

t.test('22.5: the bounds follow the configured argon2 cost (in one unit for every format), and Gatehouse\'s own hashes always fall within them', async (t) => {
  t.same(LIMITS, { units: MIN_LOGIN_UNITS, argon2MemoryKib: 262144, argon2Parallelism: 16, bcryptCost: 13 }, 'the production cost: the floor')
  t.same(hashLimits({ memoryCost: 64, timeCost: 1 }), LIMITS, 'a test\'s tiny cost: the same floor (real imports stay importable)')
  const high = hashLimits({ memoryCost: 1024 * 1024, timeCost: 4 })
  t.same(high, { units: 4 * 1024 * 1024 * 4, argon2MemoryKib: 4 * 1024 * 1024, argon2Parallelism: 16, bcryptCost: 16 }, 'an operator\'s 1 GiB × 4: four times that')
  t.equal('error' in checkHash(bcrypt(16), high), false, 'there, bcrypt 16 costs less than four of Gatehouse\'s own hashes')
  // Every configuration the settings allow (lib/config.ts: m 8 KiB-4 GiB, t 1-100, p 1-16): its own hash verifies.
  for (const m of [8, 19456, 65536, 1024 * 1024, 4 * 1024 * 1024]) {
    for (const time of [1, 2, 10, 100]) {
      for (const p of [1, 16]) {
        if (m < 8 * p) continue
        const own = argon2(m, time, p)
        const info = checkHash(own, hashLimits({ memoryCost: m, timeCost: time }))
        if ('error' in info) t.fail(`m=${m} t=${time} p=${p}: ${info.error}`)
      }
    }
  }
  t.pass('every configured cost\'s own hash is within its bounds')

  // Each format's cost in one unit, PBKDF2 counted per block of its key.
  const units = (hash: string) => {
    const info = identifyHash(hash)
    if ('error' in info) throw new Error(info.error)
    return costUnits(info.cost)
  }
  t.equal(units(argon2(19456, 2)), 38912, 'argon2: m × t')
  t.equal(units(bcrypt(12)), 4096 * 200, 'bcrypt: 2^cost rounds')
  t.equal(units(passlib(1000, 'sha256', 64)), 2 * units(passlib(1000, 'sha256', 32)), 'a 64-byte SHA-256 key is two blocks')
  t.equal(units(passlib(1000, 'sha512', 64)), units(passlib(1000, 'sha512', 32)), 'a SHA-512 block is 64 bytes')
})

t.test('22.5: a stored hash beyond the bounds is never run at sign-in: a failure at the configured cost, and it says why', async (t) => {
  const passwords = await createPasswordHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 })
  // A real bcrypt hash, re-labelled cost 16: verifying it would take 2^16 rounds (~4 s here) before failing.
  const costly = (await bcryptHash('right password', 4)).replace(/^\$2b\$04\$/, '$2b$16$')
  const started = performance.now()
  const result = await passwords.verify(costly, 'right password')
  const took = performance.now() - started
  t.match(result, { ok: false, needsRehash: false, refused: /^bcrypt cost 16 is above 13/ }, 'refused, whatever the password')
  t.ok(took < 1500, `answered at the configured cost, not a cost-16 bcrypt's seconds (${took.toFixed(0)} ms)`)
  const unknown = performance.now()
  t.same(await passwords.verify(null, 'wrong'), { ok: false, needsRehash: false })
  t.ok(performance.now() - unknown < 1500, 'and an unknown user\'s failure afterwards is not padded to it')
  t.same(await passwords.verify(await passwords.hash('mine'), 'mine'), { ok: true, needsRehash: false }, 'the hasher\'s own hashes verify')
  const bcrypt12 = await bcryptHash('legacy', 12)
  t.same(await passwords.verify(bcrypt12, 'legacy'), { ok: true, needsRehash: true }, 'an in-bounds import verifies, to be replaced')
})

t.test('22.5: PBKDF2 near the bound: one iteration over is refused, the bound itself verifies', async (t) => {
  const most = Math.floor(LIMITS.units / 1.1)
  t.equal(refused(django(most)), undefined, `${most} iterations: within`)
  t.match(refused(django(most + 1)), /iterations/, `${most + 1}: beyond`)
  // A Django hash at a realistic count verifies (off the event loop) within the bounds.
  const salt = 'Fq3xGy8bLr2Vt9ZpQs4mHc'
  const hash = `pbkdf2_sha256$50000$${salt}$${pbkdf2Sync('pw', salt, 50_000, 32, 'sha256').toString('base64')}`
  const passwords = await createPasswordHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 })
  t.same(await passwords.verify(hash, 'pw'), { ok: true, needsRehash: true })
})

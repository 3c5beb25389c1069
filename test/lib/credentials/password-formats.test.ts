import t from 'tap'
import { hash as argon2Hash } from '@node-rs/argon2'
import { hash as bcryptHash } from '@node-rs/bcrypt'
import { checkHash, verifyHash } from '../../../lib/credentials/password-formats.js'
import { hashLimits } from '../../../lib/credentials/hash-limits.js'
import { createPasswordHasher } from '../../../lib/credentials/passwords.js'

/**
 * Hashes written by other implementations, so a mistake in ours cannot pass by agreeing with itself.
 * The PBKDF2 ones were made with Python's hashlib, the way passlib and Django write them:
 *   ab64 = lambda b: base64.b64encode(b).decode().replace('+', '.').rstrip('=')
 *   '$pbkdf2-sha256$29000$%s$%s' % (ab64(salt), ab64(hashlib.pbkdf2_hmac('sha256', pw, salt, 29000)))   # salt = bytes(range(16))
 *   'pbkdf2_sha256$1000$%s$%s' % (s, base64.b64encode(hashlib.pbkdf2_hmac('sha256', pw, s.encode(), 1000)).decode())
 */
const PASSWORD = 'correct horse'
/** The bounds at the production argon2 cost (OWASP's m=19456, t=2). */
const LIMITS = hashLimits({ memoryCost: 19456, timeCost: 2 })
const FOREIGN = {
  // FastAPI's tutorial (its passlib edition): "secret" at cost 12.
  fastapiBcrypt: '$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW',
  // OpenBSD's and John the Ripper's test vector: "U*U" at cost 5, in the $2a$ form.
  openbsdBcrypt: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
  passlib: '$pbkdf2-sha256$29000$AAECAwQFBgcICQoLDA0ODw$ZvLORN3Wu1.2s6Mb0kBKZ43bylSsC/t0Vz5rE9nJPNg',
  passlibSha512: '$pbkdf2-sha512$25000$AAECAwQFBgcICQoLDA0ODw$no0pQATH8VKOEmBWJw50YZrk2tmzRj9Ae6xEw1vLLehsKeOPWOMVonpc79bKsUZLnXvPrnJcFkEt9hwlEgxdKw',
  // Keycloak's 512-bit PBKDF2-SHA256 key, converted to passlib's form (README, "Import users").
  keycloakPbkdf2: '$pbkdf2-sha256$27500$AAECAwQFBgcICQoLDA0ODw$qnA427fe69fAjkevcHZvnm7vp3MewnxKL4g2WLfI7U6teQVH1eR2L5DfcV0psPIfjGPtlZbkpnogYX.2TaSl6w',
  django: 'pbkdf2_sha256$1000$bvMJ8KHkmf3Nj0dqQ1Tl2a$sEJtwsLq0r4J8j2KkwfpEgnhL4Jx81eR0ZEukqIIZuo=',
  djangoUtf8: 'pbkdf2_sha256$1000$bvMJ8KHkmf3Nj0dqQ1Tl2a$22n/7UYQbN6i4DHh2u20PwJHCAbkewWy0X2cZc3E2Zw='
}

t.test('each accepted format is identified and verified: the right password passes, a wrong one does not', async (t) => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['bcrypt $2b$ (FastAPI tutorial)', FOREIGN.fastapiBcrypt, 'secret', /^bcrypt:12$/],
    ['bcrypt $2a$ (OpenBSD vector)', FOREIGN.openbsdBcrypt, 'U*U', /^bcrypt:5$/],
    ['bcrypt $2y$ (PHP)', FOREIGN.openbsdBcrypt.replace('$2a$', '$2y$'), 'U*U', /^bcrypt:5$/],
    ['PBKDF2-SHA256, passlib', FOREIGN.passlib, PASSWORD, /^pbkdf2-sha256:29000$/],
    ['PBKDF2-SHA512, passlib', FOREIGN.passlibSha512, PASSWORD, /^pbkdf2-sha512:25000$/],
    ['PBKDF2-SHA256, 64-byte key (Keycloak)', FOREIGN.keycloakPbkdf2, PASSWORD, /^pbkdf2-sha256:27500$/],
    ['PBKDF2-SHA256, Django', FOREIGN.django, PASSWORD, /^pbkdf2-sha256:1000$/],
    ['PBKDF2-SHA256, Django, non-ASCII password', FOREIGN.djangoUtf8, 'pässwörd ✓', /^pbkdf2-sha256:1000$/],
    ['argon2id (Gatehouse, pwdlib)', await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 64, timeCost: 1 }), PASSWORD, /^argon2id:m=64,t=1,p=1$/],
    ['argon2i', await argon2Hash(PASSWORD, { algorithm: 1, memoryCost: 128, timeCost: 2, parallelism: 2 }), PASSWORD, /^argon2i:m=128,t=2,p=2$/],
    ['bcrypt made here', await bcryptHash(PASSWORD, 4), PASSWORD, /^bcrypt:4$/]
  ]
  for (const [label, hash, password, kind] of cases) {
    const info = checkHash(hash, LIMITS)
    t.notOk('error' in info, `${label}: accepted`)
    if (!('error' in info)) t.match(info.kind, kind, `${label}: kind ${info.kind}`)
    t.equal(await verifyHash(hash, password, LIMITS), true, `${label}: the right password`)
    t.equal(await verifyHash(hash, password + 'x', LIMITS), false, `${label}: a wrong password`)
    t.equal(await verifyHash(hash, '', LIMITS), false, `${label}: the empty password`)
  }
})

t.test('malformed, unknown and too costly hashes are refused with a reason that does not quote them', async (t) => {
  const refused: Array<[string, string, RegExp]> = [
    ['empty', '', /unknown hash format/],
    ['plain text', 'hunter2', /unknown hash format/],
    ['MD5 crypt', '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/', /unknown hash format/],
    ['scrypt (passlib)', '$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E', /unknown hash format/],
    ['argon2d', '$argon2d$v=19$m=64,t=1,p=1$boz2pRvHecSB4AXNhHInAg$q+BYG8GvgJdjmzzisTxbWfzgq37rEyfnS8naSmg5+o0', /argon2d/],
    ['argon2 without version', '$argon2i$m=64,t=1,p=1$3w6z89h44VvkAgD0YTMxeQ$sSOzSpgUjU+0eoZxruPy8YqwPjXqR705B4Q94243li4', /PHC form/],
    ['argon2 with 2 GiB', '$argon2id$v=19$m=2097152,t=1,p=1$3w6z89h44VvkAgD0YTMxeQ$sSOzSpgUjU+0eoZxruPy8YqwPjXqR705B4Q94243li4', /argon2 memory 2097152 KiB is above/],
    ['bcrypt cost 20', FOREIGN.openbsdBcrypt.replace('$05$', '$20$'), /bcrypt cost 20 is above 13/],
    ['bcrypt cost 3', FOREIGN.openbsdBcrypt.replace('$05$', '$03$'), /cost 3 outside 4-31/],
    ['bcrypt cost 32', FOREIGN.openbsdBcrypt.replace('$05$', '$32$'), /cost 32 outside 4-31/],
    ['bcrypt $2x$', FOREIGN.openbsdBcrypt.replace('$2a$', '$2x$'), /\$2x\$/],
    ['bcrypt truncated', FOREIGN.openbsdBcrypt.slice(0, -1), /malformed bcrypt/],
    ['passlib PBKDF2 with 20M rounds', FOREIGN.passlib.replace('$29000$', '$20000000$'), /iterations 20000000 are above/],
    ['Django PBKDF2 with 0 iterations', FOREIGN.django.replace('$1000$', '$0$'), /iterations/],
    ['Django PBKDF2-SHA1', FOREIGN.django.replace('pbkdf2_sha256', 'pbkdf2_sha1'), /PBKDF2/],
    ['Django with a 72-byte key', 'pbkdf2_sha256$1000$salt$' + 'A'.repeat(96), /16 to 64 bytes/],
    ['trailing newline', FOREIGN.passlib + '\n', /malformed PBKDF2/],
    ['NUL in a Django salt', 'pbkdf2_sha256$1000$sa\u0000lt$sEJtwsLq0r4J8j2KkwfpEgnhL4Jx81eR0ZEukqIIZuo=', /PBKDF2/]
  ]
  for (const [label, hash, reason] of refused) {
    const info = checkHash(hash, LIMITS)
    t.ok('error' in info, `${label}: refused`)
    if ('error' in info) {
      t.match(info.error, reason, `${label}: ${info.error}`)
      if (hash.length > 8) t.notOk(info.error.includes(hash.slice(-8)), `${label}: the reason does not quote the hash`)
    }
    t.equal(await verifyHash(hash, 'anything', LIMITS), false, `${label}: never verifies`)
  }
})

t.test('foreign hashes verify off the event loop', async (t) => {
  // bcrypt at cost 12 is ~0.3 s of one core: on the event loop, the timer could not tick meanwhile.
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 5)
  const started = performance.now()
  const results = await Promise.all([verifyHash(FOREIGN.fastapiBcrypt, 'secret', LIMITS), verifyHash(FOREIGN.passlib.replace('$29000$', '$400000$'), PASSWORD, LIMITS)])
  const elapsed = performance.now() - started
  clearInterval(timer)
  t.same(results, [true, false], 'bcrypt verified (the PBKDF2 rounds were changed, so it fails, after the work)')
  t.ok(ticks >= Math.floor(elapsed / 50), `the timer kept ticking (${ticks} ticks in ${elapsed.toFixed(0)} ms)`)
})

t.test('the hasher verifies foreign hashes, asks for a rehash after success, and pads failures to the slowest kind', async (t) => {
  const passwords = await createPasswordHasher({ memoryCost: 64, timeCost: 1, parallelism: 1 })
  t.same(await passwords.verify(FOREIGN.django, PASSWORD), { ok: true, needsRehash: true }, 'Django PBKDF2: ok, to be replaced')
  t.same(await passwords.verify(FOREIGN.django, 'wrong'), { ok: false, needsRehash: false })
  const slow = await bcryptHash(PASSWORD, 10) // ~80 ms here; the argon2 of this hasher takes well under 1 ms
  const timed = async (stored: string | null) => {
    const started = performance.now()
    await passwords.verify(stored, 'wrong password')
    return performance.now() - started
  }
  // The fastest of three: one sample on a machine busy with other test files once took 65 ms (a stall, not the hash).
  const fastBefore = Math.min(await timed(null), await timed(null), await timed(null))
  const bcryptWrong = await timed(slow)
  const unknown: number[] = []
  for (let i = 0; i < 5; i++) unknown.push(await timed(null))
  unknown.sort((a, b) => a - b)
  const median = unknown[2]!
  t.ok(fastBefore < bcryptWrong / 4, `before any bcrypt verify, an unknown user costs the cheap argon2 (${fastBefore.toFixed(1)} ms vs bcrypt ${bcryptWrong.toFixed(1)} ms)`)
  // Without the padding, an unknown user would stay at the cheap argon2's time, far below half of bcrypt's.
  t.ok(median > bcryptWrong * 0.5, `after it, an unknown user takes as long as a wrong bcrypt password (median ${median.toFixed(1)} ms vs ${bcryptWrong.toFixed(1)} ms)`)
  t.same(await passwords.verify(await bcryptHash('right', 4), 'right'), { ok: true, needsRehash: true }, 'bcrypt: ok, to be replaced by argon2id')
  const own = await passwords.hash('x')
  const started = performance.now()
  t.same(await passwords.verify(own, 'x'), { ok: true, needsRehash: false })
  const success = performance.now() - started
  t.ok(success < bcryptWrong * 0.5, `successes are not padded: they tell an attacker nothing new (${success.toFixed(1)} ms)`)
})

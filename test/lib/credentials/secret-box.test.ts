import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseSecretsKey, resolveSecretsKey, secretBox, secretsKeyFile } from '../../../lib/credentials/secret-box.js'

t.test('a sealed secret opens with its key and context only, and an altered one not at all', async (t) => {
  const box = secretBox(randomBytes(32))
  const sealed = box.seal('JBSWY3DPEHPK3PXP', 'factor-1')
  t.match(sealed, /^v1\.[A-Za-z0-9_-]+$/)
  t.notMatch(sealed, 'JBSWY3DPEHPK3PXP', 'the plaintext is not in it')
  t.not(box.seal('JBSWY3DPEHPK3PXP', 'factor-1'), sealed, 'a fresh IV each time')
  t.equal(box.open(sealed, 'factor-1'), 'JBSWY3DPEHPK3PXP')
  t.equal(box.open(sealed, 'factor-2'), undefined, 'another context (a row copied onto another) does not open')
  t.equal(secretBox(randomBytes(32)).open(sealed, 'factor-1'), undefined, 'another key does not open')
  const raw = Buffer.from(sealed.slice(3), 'base64url')
  raw[14] = raw[14]! ^ 1
  t.equal(box.open('v1.' + raw.toString('base64url'), 'factor-1'), undefined, 'one bit changed: refused')
  t.equal(box.open('v2.' + sealed.slice(3), 'factor-1'), undefined)
  t.equal(box.open('v1.AAAA', 'factor-1'), undefined, 'too short')
  t.throws(() => secretBox(randomBytes(16)))
})

t.test('SECRETS_KEY in hex or base64url; generated once beside a SQLite file, owner-only; none for PostgreSQL', async (t) => {
  const key = randomBytes(32)
  t.same(parseSecretsKey(key.toString('hex')), key)
  t.same(parseSecretsKey(key.toString('base64url')), key)
  t.same(resolveSecretsKey({ secretsKey: key.toString('hex'), databaseUrl: 'postgres://x/y' }), key)
  t.equal(resolveSecretsKey({ databaseUrl: 'postgres://x/y' }), undefined)
  t.equal(resolveSecretsKey({ databaseUrl: 'sqlite::memory:' })?.length, 32)
  const dir = t.testdir({})
  const db = join(dir, 'sub', 'gatehouse.db')
  const first = resolveSecretsKey({ databaseUrl: `sqlite:${db}` })
  t.equal(first?.length, 32)
  t.equal(secretsKeyFile(db), join(dir, 'sub', 'secrets.key'))
  t.equal(statSync(secretsKeyFile(db)).mode & 0o777, 0o600, 'readable by the owner only')
  t.same(resolveSecretsKey({ databaseUrl: `sqlite:${db}` }), first, 'the same key on the next start')
  t.match(readFileSync(secretsKeyFile(db), 'utf8'), /^[0-9a-f]{64}\n$/)
  const db2 = join(dir, 'other', 'g.db')
  const keys = Array.from({ length: 20 }, () => resolveSecretsKey({ databaseUrl: `sqlite:${db2}` })!.toString('hex'))
  t.equal(new Set(keys).size, 1, 'one key however often it is asked for')
})

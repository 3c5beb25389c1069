import t from 'tap'
import { join } from 'node:path'
import { databaseLabel, startBanner } from '../../../lib/ops/start-banner.js'

t.test('the banner names the issuer, docs, metadata and database, and the first command while there is no user', async (t) => {
  const empty = startBanner({ issuer: 'http://localhost:3000', databaseUrl: 'sqlite:/srv/gh/data/gatehouse.db' }, 0, '1.2.3')
  t.match(empty, {
    issuer: 'http://localhost:3000',
    docs: 'http://localhost:3000/docs',
    metadata: 'http://localhost:3000/.well-known/oauth-authorization-server',
    database: '/srv/gh/data/gatehouse.db',
    users: 0
  })
  t.equal(empty.msg, 'Gatehouse 1.2.3 is ready at http://localhost:3000 | API docs: http://localhost:3000/docs | ' +
    'metadata: http://localhost:3000/.well-known/oauth-authorization-server | database: /srv/gh/data/gatehouse.db | ' +
    'no users yet: create an admin with `npx gatehouse init` (it prints a generated password once)')
  t.notMatch(empty.msg, /\n/, 'one line')
  t.match(startBanner({ issuer: 'http://localhost:3000', databaseUrl: 'sqlite::memory:' }, 1, '1').msg, /\| 1 user$/, 'one user: no hint')
  t.match(startBanner({ issuer: 'https://auth.example.com/base/', databaseUrl: 'sqlite::memory:' }, 7, '1'), {
    docs: 'https://auth.example.com/base/docs', metadata: 'https://auth.example.com/base/.well-known/oauth-authorization-server', msg: /\| 7 users$/
  }, 'an issuer with a path (and a trailing slash)')
})

t.test('the database as people read it: the file\'s absolute path, memory, or PostgreSQL without its credentials', async (t) => {
  t.equal(databaseLabel('sqlite:data/x.db'), join(process.cwd(), 'data', 'x.db'), 'a relative path, resolved as the store does')
  t.equal(databaseLabel('sqlite::memory:'), 'in memory (gone when the server stops)')
  t.equal(databaseLabel('postgres://gh:s3cret@db.internal:5432/gatehouse'), 'PostgreSQL at db.internal:5432/gatehouse')
  t.notMatch(databaseLabel('postgresql://gh:s3cret@db/gh?sslmode=require'), /s3cret|gh:|sslmode/, 'never the password, user or options')
})

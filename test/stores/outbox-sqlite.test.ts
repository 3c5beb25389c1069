import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { outboxStoreSuite } from './outbox-suite.js'

// Real files in a temp dir, one database per subtest; the race opens the same file twice (two instances).
let n = 0
t.before(() => { t.testdir({}) })
outboxStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `outbox-${n++}.db`)}`), async () => {
  const file = `sqlite:${join(t.testdirName, `outbox-${n++}.db`)}`
  return [openSqlite(file), openSqlite(file)]
})

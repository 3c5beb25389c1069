import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { upstreamStoreSuite } from './upstream-suite.js'

// Real files in a temp dir, one database per subtest; the race opens the same file twice.
let n = 0
t.before(() => { t.testdir({}) })
upstreamStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `upstream-${n++}.db`)}`), async () => {
  const file = `sqlite:${join(t.testdirName, `upstream-${n++}.db`)}`
  return [openSqlite(file), openSqlite(file)]
})

import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { browserStoreSuite } from './browser-suite.js'

// Real files in a temp dir, one database per subtest; the race opens the same file twice (two processes' worth of connections).
let n = 0
t.before(() => { t.testdir({}) })
browserStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `browser-${n++}.db`)}`), async () => {
  const file = `sqlite:${join(t.testdirName, `browser-${n++}.db`)}`
  return [openSqlite(file), openSqlite(file)]
})

import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { storeSuite } from './suite.js'

// Real files in a temp dir, one database per subtest.
let n = 0
storeSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `store-${n++}.db`)}`))
t.before(() => { t.testdir({}) })

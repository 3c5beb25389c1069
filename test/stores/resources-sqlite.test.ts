import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { resourceStoreSuite } from './resources-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
resourceStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `resources-${n++}.db`)}`))

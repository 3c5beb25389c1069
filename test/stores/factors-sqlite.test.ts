import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { factorStoreSuite } from './factors-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
factorStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `factors-${n++}.db`)}`))

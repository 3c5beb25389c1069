import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { clientAssertionStoreSuite } from './client-assertions-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
clientAssertionStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `assertions-${n++}.db`)}`))

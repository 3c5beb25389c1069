import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { securityEventStoreSuite } from './security-events-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
securityEventStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `events-${n++}.db`)}`))

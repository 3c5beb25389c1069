import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { deviceCodeStoreSuite } from './device-codes-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
deviceCodeStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `device-${n++}.db`)}`))

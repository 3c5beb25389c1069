import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { pushedRequestStoreSuite } from './pushed-requests-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
pushedRequestStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `pushed-${n++}.db`)}`))

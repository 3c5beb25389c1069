import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { accountLinkStoreSuite } from './account-links-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
accountLinkStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `links-${n++}.db`)}`))

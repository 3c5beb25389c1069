import t from 'tap'
import { join } from 'node:path'
import { openSqlite } from '../../lib/stores/sqlite/index.js'
import { passkeyChallengeStoreSuite } from './passkey-challenges-suite.js'

let n = 0
t.before(() => { t.testdir({}) })
passkeyChallengeStoreSuite(t, async () => openSqlite(`sqlite:${join(t.testdirName, `challenges-${n++}.db`)}`))

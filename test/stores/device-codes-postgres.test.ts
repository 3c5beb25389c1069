import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { schemasDroppedAtEnd } from '../support/pg-schema.js'
import { deviceCodeStoreSuite } from './device-codes-suite.js'

// A schema of its own per subtest.
const freshSchema = schemasDroppedAtEnd(t)
deviceCodeStoreSuite(t, async () => openPostgres((await freshSchema()).url))

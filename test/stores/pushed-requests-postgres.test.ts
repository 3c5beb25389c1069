import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { schemasDroppedAtEnd } from '../support/pg-schema.js'
import { pushedRequestStoreSuite } from './pushed-requests-suite.js'

// A schema of its own per subtest.
const freshSchema = schemasDroppedAtEnd(t)
pushedRequestStoreSuite(t, async () => openPostgres((await freshSchema()).url))

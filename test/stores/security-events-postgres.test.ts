import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { schemasDroppedAtEnd } from '../support/pg-schema.js'
import { securityEventStoreSuite } from './security-events-suite.js'

// A schema of its own per subtest.
const freshSchema = schemasDroppedAtEnd(t)
securityEventStoreSuite(t, async () => openPostgres((await freshSchema()).url))

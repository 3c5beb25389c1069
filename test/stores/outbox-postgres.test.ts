import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { schemasDroppedAtEnd } from '../support/pg-schema.js'
import { outboxStoreSuite } from './outbox-suite.js'

// A schema of its own per subtest; the race opens two pools (two instances) on one schema.
const freshSchema = schemasDroppedAtEnd(t)

outboxStoreSuite(t, async () => openPostgres((await freshSchema()).url), async () => {
  const { url } = await freshSchema()
  return [await openPostgres(url), await openPostgres(url)]
})

import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { createTestSchema } from '../support/pg-schema.js'
import { outboxStoreSuite } from './outbox-suite.js'

// A schema of its own per subtest; the race opens two pools (two instances) on one schema.
const drops: Array<() => Promise<void>> = []
t.teardown(async () => { for (const drop of drops) await drop() })
const freshSchema = async () => {
  const created = await createTestSchema()
  drops.push(created.drop)
  return created
}

outboxStoreSuite(t, async () => openPostgres((await freshSchema()).url), async () => {
  const { url } = await freshSchema()
  return [await openPostgres(url), await openPostgres(url)]
})

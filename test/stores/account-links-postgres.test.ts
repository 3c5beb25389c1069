import t from 'tap'
import { openPostgres } from '../../lib/stores/postgres/index.js'
import { createTestSchema } from '../support/pg-schema.js'
import { accountLinkStoreSuite } from './account-links-suite.js'

// A schema of its own per subtest.
const drops: Array<() => Promise<void>> = []
t.teardown(async () => { for (const drop of drops) await drop() })
accountLinkStoreSuite(t, async () => {
  const created = await createTestSchema()
  drops.push(created.drop)
  return openPostgres(created.url)
})

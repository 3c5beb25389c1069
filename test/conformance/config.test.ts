import t from 'tap'
import { startConformanceOp } from './support/op.js'
import { CONFIG_PLAN, runPlan } from './support/plans.js'

// The OpenID Foundation's OIDCCConfigTestPlan ("Config OP"): the discovery document and the JWKS.

t.test('OIDCCConfigTestPlan (oidcc-config-certification-test-plan)', async (t) => {
  const op = await startConformanceOp(t, { browser: 'http' })
  await runPlan(t, CONFIG_PLAN, op, { formPost: false })
})

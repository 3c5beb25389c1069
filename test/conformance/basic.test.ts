import t from 'tap'
import { startConformanceOp } from './support/op.js'
import { BASIC_PLAN, runPlan } from './support/plans.js'

// The OpenID Foundation's OIDCCBasicTestPlan ("Basic OP"), ported: response_type=code, a static client with
// client_secret_basic (client_secret_post for oidcc-server-client-secret-post), query responses, discovery. One
// Gatehouse behind https for every module; the user signs in through plain HTTP (no page needs a script).
// test/conformance/README.md maps each module to its port.

t.test('OIDCCBasicTestPlan (oidcc-basic-certification-test-plan)', async (t) => {
  const op = await startConformanceOp(t, { browser: 'http' })
  await runPlan(t, BASIC_PLAN, op, { formPost: false })
})

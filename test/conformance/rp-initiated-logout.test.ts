import t from 'tap'
import { startConformanceOp } from './support/op.js'
import { RP_INITIATED_LOGOUT_PLAN, runPlan } from './support/plans.js'

// The OpenID Foundation's OIDCCRpInitiatedLogoutTestPlan ("RP-Initiated OP"): OpenID Connect RP-Initiated Logout
// 1.0 at the end_session_endpoint, client_secret_basic, query responses.

t.test('OIDCCRpInitiatedLogoutTestPlan (oidcc-rp-initiated-logout-certification-test-plan)', async (t) => {
  const op = await startConformanceOp(t, { browser: 'http' })
  await runPlan(t, RP_INITIATED_LOGOUT_PLAN, op, { formPost: false })
})

import t from 'tap'
import { withoutChromium } from '../support/chromium.js'
import { startConformanceOp } from './support/op.js'
import { FORM_POST_PLAN, runPlan } from './support/plans.js'

// The OpenID Foundation's OIDCCFormPostBasicTestPlan ("Form Post OP"): the Basic plan's modules with
// response_mode=form_post, in Debian's Chromium, so the OP's auto-submitting form page runs under its own CSP.

t.test('OIDCCFormPostBasicTestPlan (oidcc-formpost-basic-certification-test-plan)', { skip: withoutChromium }, async (t) => {
  const op = await startConformanceOp(t, { browser: 'chromium' })
  await runPlan(t, FORM_POST_PLAN, op, { formPost: true })
})

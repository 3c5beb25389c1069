import type { Test } from 'tap'
import { ConditionError, Env, type Condition } from './env.js'
import type { UserAgent, Visit } from './agent.js'
import type { ConformanceOp } from './op.js'

/**
 * How a ported module runs under tap, mapped from the suite's test runner:
 * - `callAndStopOnFailure(X)` → `stop(X)`: a failure fails the test and ends the module;
 * - `callAndContinueOnFailure(X, FAILURE)` → `failure(X)`: a failure fails the test, the module goes on;
 * - `callAndContinueOnFailure(X, WARNING)` → `warning(X)`: a `# WARNING` comment (a failure with
 *   CONFORMANCE_WARNINGS=fail), the module goes on;
 * - `callAndContinueOnFailure(X, INFO)` → `info(X)`: only its effect on the environment counts;
 * - `fireTestSkipped(reason)` → `skipped(reason)`: a skipped assertion with the suite's reason, and the module ends;
 * - a screenshot placeholder (the suite asks a person to upload one and a reviewer to judge it) → `placeholder(…)`: an
 *   assertion of what the screenshot must show (the error page, the login page, the signed-out page).
 * Each passing FAILURE-level condition is an `ok` line named after the suite's condition class.
 */

/** Ends a module: a condition called with stop failed, or the suite finishes or skips the module here. */
export class ModuleEnd extends Error {}

export interface ModuleContext {
  op: ConformanceOp
  /** The suite's ResponseMode variant: `form_post` for OIDCCFormPostBasicTestPlan. */
  formPost: boolean
  clientAuth: 'client_secret_basic' | 'client_secret_post'
}

export type Result = 'FAILURE' | 'WARNING' | 'INFO'
const strictWarnings = process.env.CONFORMANCE_WARNINGS === 'fail'

export abstract class ConformanceModule {
  readonly env: Env
  #agent: UserAgent | undefined

  constructor (readonly t: Test, readonly ctx: ModuleContext) {
    this.env = new Env({ baseUrl: ctx.op.rp.baseUrl, config: ctx.op.config, clock: ctx.op.clock })
  }

  /** configure(), then start(), as the suite's runner calls them. */
  async run (): Promise<void> {
    try {
      await this.configure()
      await this.start()
    } catch (err) {
      if (!(err instanceof ModuleEnd)) throw err
    }
  }

  protected abstract configure (): Promise<void>
  protected abstract start (): Promise<void>

  protected async call (condition: Condition, result: Result, stopOnFailure: boolean): Promise<boolean> {
    try {
      await condition.evaluate(this.env)
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err
      if (result === 'FAILURE' || (result === 'WARNING' && strictWarnings)) this.t.fail(`${condition.name}: ${err.message}`)
      else if (result === 'WARNING') this.t.comment(`WARNING ${condition.name}: ${err.message}`)
      if (stopOnFailure) throw new ModuleEnd(condition.name)
      return false
    }
    if (result === 'FAILURE' && condition.command !== true) this.t.pass(condition.name)
    return true
  }

  protected stop (condition: Condition): Promise<boolean> { return this.call(condition, 'FAILURE', true) }
  protected failure (condition: Condition): Promise<boolean> { return this.call(condition, 'FAILURE', false) }
  protected warning (condition: Condition): Promise<boolean> { return this.call(condition, 'WARNING', false) }
  protected info (condition: Condition): Promise<boolean> { return this.call(condition, 'INFO', false) }

  /**
   * A WARNING the suite raises about something Gatehouse supports (POST /authorize, /userinfo by form body): an
   * assertion labelled WARNING, so the module fails while the behaviour is missing.
   */
  protected async requiredWarning (condition: Condition): Promise<void> {
    try {
      await condition.evaluate(this.env)
      this.t.pass(`WARNING-level ${condition.name}`)
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err
      this.t.fail(`WARNING ${condition.name} (asserted: Gatehouse supports this): ${err.message}`)
    }
  }

  /** The suite's `skipIfElementMissing(…)`: when `present` is false, the condition is skipped with `onSkip`. */
  protected async unlessMissing (present: boolean, condition: Condition, result: Result, onSkip: Result, what: string): Promise<void> {
    if (present) {
      await this.call(condition, result, false)
      return
    }
    if (onSkip === 'FAILURE' || (onSkip === 'WARNING' && strictWarnings)) this.t.fail(`${condition.name} skipped: ${what} is missing`)
    else if (onSkip === 'WARNING') this.t.comment(`WARNING ${condition.name} skipped: ${what} is missing`)
  }

  /** fireTestSkipped: what was checked so far passed; the suite ends the module as skipped, for this reason. */
  protected skipped (reason: string): never {
    this.t.pass(`the suite skips this module here: ${reason}`, { skip: reason })
    throw new ModuleEnd('skipped')
  }

  /** fireTestFinished. */
  protected finished (): never {
    throw new ModuleEnd('finished')
  }

  /** What a screenshot must show, asserted (the suite's placeholders, judged by a reviewer there). */
  protected placeholder (ok: boolean, what: string, detail?: unknown): void {
    this.t.ok(ok, `placeholder (screenshot review): ${what}`, ok ? {} : { found: detail })
  }

  /** The browser this module uses: a fresh one (no cookies) per module, as the suite asks testers to clear cookies. */
  protected async userAgent (): Promise<UserAgent> {
    this.#agent ??= await this.ctx.op.userAgent(this.t)
    return this.#agent
  }

  protected async visit (url: string, method: 'GET' | 'POST' = 'GET'): Promise<Visit> {
    return (await this.userAgent()).visit(url, method)
  }
}

/** What a visit ended on, for a failure message. */
export function describeVisit (visit: Visit): string {
  if (visit.arrival) return `${visit.arrival.method} ${visit.arrival.path} at the RP`
  if (visit.page) return `an OP page: ${visit.page.status} ${visit.page.url} ${visit.page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)}`
  return 'nothing'
}

import { ServerTest, type Placeholder } from '../server-test.js'
import * as authz from '../conditions/authorization.js'
import * as idt from '../conditions/id-token.js'

/**
 * The modules of OIDCCBasicTestPlan about the OP's session: prompt=login, prompt=none, max_age and id_token_hint,
 * mostly two authorizations in the same browser. The suite's waits (WaitForOneSecond, WaitFor2Seconds) move the
 * OP's manual clock.
 */

/** ExpectSecondLoginPage: the second authorization showed the login page. */
const secondLoginPage: Placeholder = {
  name: 'ExpectSecondLoginPage: the user is asked to log in again',
  problem: (visit) => visit.shown.includes('login') ? undefined : `no login page on the way (${visit.shown.join(', ') || 'no page at all'})`
}

/** oidcc-prompt-login: a second authorization with prompt=login must show the login page; auth_time, if there, moves on. */
export class OIDCCPromptLogin extends ServerTest {
  #firstTime = true

  protected override async createAuthorizationRequest (): Promise<void> {
    if (this.#firstTime) return super.createAuthorizationRequest()
    this.env.clock.advance(1) // WaitForOneSecond: auth_time must be able to differ
    await this.callSteps(this.createAuthorizationRequestSequence().then(authz.AddPromptLoginToAuthorizationEndpointRequest))
  }

  protected override createPlaceholder (): Placeholder { return secondLoginPage }

  protected override async performRedirect (): Promise<void> {
    if (this.#firstTime) return super.performRedirect()
    await this.performRedirectWithPlaceholder()
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    if (this.#firstTime) {
      this.#firstTime = false
      this.env.firstIdToken = this.env.idToken
      this.env.idToken = undefined
      return this.performAuthorizationFlow()
    }
    await this.failure(idt.CheckSecondIdTokenAuthTimeIsLaterIfPresent)
    this.finished()
  }
}

/** oidcc-prompt-none-not-logged-in: prompt=none in a fresh browser must come back with an error that needs a user interface. */
export class OIDCCPromptNoneNotLoggedIn extends ServerTest {
  protected override createAuthorizationRequestSequence () {
    // A longer state, to check the OP does not corrupt it in the error response.
    this.env.requestedStateLength = 128
    return super.createAuthorizationRequestSequence().then(authz.AddPromptNoneToAuthorizationEndpointRequest)
  }

  protected override async onAuthorizationCallbackResponse (): Promise<void> {
    await this.performGenericAuthorizationEndpointErrorResponseValidation()
    await this.failure(authz.CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface)
    this.finished()
  }
}

/** AbstractOIDCCSameAuthTwiceServerTest: a second authorization that must not ask again; the same sub and auth_time. */
abstract class SameAuthTwiceTest extends ServerTest {
  #firstTime = true

  protected override async createAuthorizationRequest (): Promise<void> {
    if (this.#firstTime) return this.callSteps(this.firstAuthorizationRequest())
    await this.callSteps(this.secondAuthorizationRequest())
  }

  protected firstAuthorizationRequest () { return this.createAuthorizationRequestSequence() }
  protected abstract secondAuthorizationRequest (): ReturnType<ServerTest['createAuthorizationRequestSequence']>

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    if (this.#firstTime) {
      this.#firstTime = false
      await this.validateFirstIdToken()
      this.env.firstIdToken = this.env.idToken
      this.env.idToken = undefined
      return this.performAuthorizationFlow()
    }
    await this.validateFirstAndSecondIdTokens()
    this.finished()
  }

  protected async validateFirstIdToken (): Promise<void> {}

  protected async validateFirstAndSecondIdTokens (): Promise<void> {
    await this.failure(idt.CheckIdTokenAuthTimeClaimsSameIfPresent)
    await this.failure(idt.CheckIdTokenSubConsistentForSecondAuthorization)
  }
}

/** oidcc-prompt-none-logged-in. */
export class OIDCCPromptNoneLoggedIn extends SameAuthTwiceTest {
  protected secondAuthorizationRequest () {
    return this.createAuthorizationRequestSequence().then(authz.AddPromptNoneToAuthorizationEndpointRequest)
  }
}

/** oidcc-id-token-hint: prompt=none with the first ID token as id_token_hint must succeed at once. */
export class OIDCCIdTokenHint extends SameAuthTwiceTest {
  protected secondAuthorizationRequest () {
    return this.createAuthorizationRequestSequence().then(authz.AddPromptNoneToAuthorizationEndpointRequest, authz.AddIdTokenHintFromFirstLoginToAuthorizationEndpointRequest)
  }
}

/** oidcc-max-age-10000: max_age=15000 then max_age=10000; no second login, auth_time in both and the same. */
export class OIDCCMaxAge10000 extends SameAuthTwiceTest {
  protected override firstAuthorizationRequest () {
    return this.createAuthorizationRequestSequence().then(authz.AddMaxAge15000ToAuthorizationEndpointRequest)
  }

  protected secondAuthorizationRequest () {
    return this.createAuthorizationRequestSequence().then(authz.AddMaxAge10000ToAuthorizationEndpointRequest)
  }

  protected override async validateFirstIdToken (): Promise<void> {
    await this.failure(idt.CheckIdTokenAuthTimeClaimPresentDueToMaxAge)
  }

  protected override async validateFirstAndSecondIdTokens (): Promise<void> {
    await this.failure(idt.CheckIdTokenAuthTimeClaimPresentDueToMaxAge)
    await super.validateFirstAndSecondIdTokens()
  }
}

/** oidcc-max-age-1: two seconds later, max_age=1 must ask for a login again, and auth_time must say so. */
export class OIDCCMaxAge1 extends ServerTest {
  #firstTime = true

  protected override async createAuthorizationRequest (): Promise<void> {
    if (this.#firstTime) return super.createAuthorizationRequest()
    this.env.clock.advance(2) // WaitFor2Seconds: the first authentication is older than max_age now
    await this.callSteps(this.createAuthorizationRequestSequence().then(authz.AddMaxAge1ToAuthorizationEndpointRequest))
  }

  protected override createPlaceholder (): Placeholder { return secondLoginPage }

  protected override async performRedirect (): Promise<void> {
    if (this.#firstTime) return super.performRedirect()
    await this.performRedirectWithPlaceholder()
  }

  protected override async performIdTokenValidation (): Promise<void> {
    await super.performIdTokenValidation()
    if (this.#firstTime) return
    await this.failure(idt.CheckIdTokenAuthTimeClaimPresentDueToMaxAge)
    await this.failure(idt.CheckSecondIdTokenAuthTimeIsLaterIfPresent)
    await this.failure(idt.CheckIdTokenAuthTimeIsRecentIfPresent)
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    if (this.#firstTime) {
      this.#firstTime = false
      this.env.firstIdToken = this.env.idToken
      this.env.idToken = undefined
      return this.performAuthorizationFlow()
    }
    this.finished()
  }
}

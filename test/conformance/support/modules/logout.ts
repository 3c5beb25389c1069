import { postsTo, type Visit } from '../agent.js'
import { formsOf } from '../forms.js'
import { describeVisit } from '../module.js'
import { ServerTest, type Placeholder } from '../server-test.js'
import * as authz from '../conditions/authorization.js'
import * as logout from '../conditions/logout.js'

/**
 * OIDCCRpInitiatedLogoutTestPlan's modules (OpenID Connect RP-Initiated Logout 1.0): a normal authorization, then
 * the browser at the end_session_endpoint with the module's parameters; where the suite then expects the
 * post_logout_redirect_uri to be called, a prompt=none authorization must fail (the user is signed out).
 */
export abstract class RpInitiatedLogoutTest extends ServerTest {
  protected firstTime = true

  protected override async configureClient (): Promise<void> {
    await this.stop(logout.CreatePostLogoutRedirectUri)
    await super.configureClient()
  }

  protected override async onConfigure (): Promise<void> {
    // A longer state, to check the OP does not corrupt it.
    this.env.requestedStateLength = 128
  }

  protected override async createAuthorizationRequest (): Promise<void> {
    if (this.firstTime) return super.createAuthorizationRequest()
    await this.callSteps(this.createAuthorizationRequestSequence().then(authz.AddPromptNoneToAuthorizationEndpointRequest))
  }

  protected override async onAuthorizationCallbackResponse (): Promise<void> {
    if (this.firstTime) {
      this.firstTime = false
      return super.onAuthorizationCallbackResponse()
    }
    await this.performGenericAuthorizationEndpointErrorResponseValidation()
    await this.failure(authz.CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface)
    this.finished()
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.stop(logout.CreateRandomEndSessionState)
    await this.stop(logout.CreateEndSessionEndpointRequest)
    await this.customiseEndSessionEndpointRequest()
    await this.stop(logout.BuildRedirectToEndSessionEndpoint)
    await this.performRedirectToEndSessionEndpoint()
  }

  protected async customiseEndSessionEndpointRequest (): Promise<void> {}

  /** A placeholder (a page the suite asks a screenshot of), or undefined when the module expects the post-logout redirect. */
  protected createLogoutPlaceholder (): Placeholder | undefined { return undefined }

  protected async performRedirectToEndSessionEndpoint (): Promise<void> {
    const placeholder = this.createLogoutPlaceholder()
    const visit = await this.visit(this.env.need('redirectToEndSessionEndpoint'))
    if (visit.arrival?.path === 'post_logout_redirect') return this.handlePostLogoutRedirect(visit)
    if (placeholder === undefined || visit.arrival !== undefined) {
      this.t.fail(`the OP did not redirect to the post_logout_redirect_uri: the browser ended on ${describeVisit(visit)}`)
      this.finished()
    }
    const problem = placeholder.problem(visit)
    this.placeholder(problem === undefined, placeholder.name, problem)
    await this.afterLogoutPage(visit)
    this.finished()
  }

  protected async handlePostLogoutRedirect (_visit: Visit): Promise<void> {
    this.t.fail('OP has incorrectly called the registered post_logout_redirect_uri')
    this.finished()
  }

  /** What follows the page a placeholder judged (nothing, unless the page must show the user signed out). */
  protected async afterLogoutPage (_visit: Visit): Promise<void> {}

  /** validateLogoutResults: the redirect checked, then a prompt=none authorization, which must fail. */
  protected async validateLogoutResults (visit: Visit, stateSent: boolean): Promise<void> {
    this.env.postLogoutRedirect = visit.arrival
    await this.failure(stateSent ? logout.CheckPostLogoutState : logout.CheckNoPostLogoutState)
    await this.warning(logout.CheckForUnexpectedParametersInPostLogoutRedirect)
    await this.performAuthorizationFlow()
  }
}

/** The end_session_endpoint without query, as a confirmation form posts to it. */
const endSessionEndpoint = (module: ServerTest) => {
  const url = new URL(String(module.env.need('server').end_session_endpoint))
  url.search = ''
  return url.href
}

/** An error page, or a page asking the user to confirm the logout (a form posting to the end_session_endpoint); no redirect back. */
const errorOrConfirmation = (module: ServerTest, name: string): Placeholder => ({
  name: `${name}: an error page, or a page asking the user whether to log out`,
  problem: (visit) => {
    if (visit.page === undefined) return 'no OP page'
    if (visit.page.status >= 400 && visit.page.status <= 499) return undefined
    const { url, body } = visit.page
    if (visit.page.status === 200 && formsOf(body).some((f) => postsTo(f, url, endSessionEndpoint(module)))) return undefined
    return `neither: ${describeVisit(visit)}`
  }
})

/** ExpectSuccessfulLogoutPage: the logged-out page (after the user confirms, if the OP asks); checked below by prompt=none. */
abstract class SuccessfulLogoutPageTest extends RpInitiatedLogoutTest {
  #confirmed: Visit | undefined

  protected override createLogoutPlaceholder (): Placeholder {
    return {
      name: 'ExpectSuccessfulLogoutPage: the user is logged out',
      problem: (visit) => {
        const shown = this.#confirmed ?? visit
        if (shown.arrival !== undefined) return `a redirect back to the RP: ${describeVisit(shown)}`
        return shown.page?.status === 200 ? undefined : `not a page saying so: ${describeVisit(shown)}`
      }
    }
  }

  protected override async performRedirectToEndSessionEndpoint (): Promise<void> {
    const placeholder = this.createLogoutPlaceholder()
    let visit = await this.visit(this.env.need('redirectToEndSessionEndpoint'))
    if (visit.arrival !== undefined) return this.handlePostLogoutRedirect(visit)
    // A user asked to confirm does (the screenshot the suite asks for is of the logged-out page).
    if (visit.page !== undefined && formsOf(visit.page.body).some((f) => postsTo(f, visit.page?.url ?? '', endSessionEndpoint(this)))) {
      visit = this.#confirmed = await (await this.userAgent()).confirm(endSessionEndpoint(this))
    }
    const problem = placeholder.problem(visit)
    this.placeholder(problem === undefined, placeholder.name, problem)
    // What the screenshot stands for, checked: the OP no longer knows the user (OIDC Core §3.1.2.6 under prompt=none).
    this.t.comment('the user must be logged out: a prompt=none authorization must now fail')
    await this.performAuthorizationFlow()
  }
}

/** oidcc-rp-initiated-logout: back to the post_logout_redirect_uri with the state; then logged out. */
export class OIDCCRpInitiatedLogout extends RpInitiatedLogoutTest {
  protected override async handlePostLogoutRedirect (visit: Visit): Promise<void> {
    await this.validateLogoutResults(visit, true)
  }
}

/** oidcc-rp-initiated-logout-no-state: back to the post_logout_redirect_uri without a state. */
export class OIDCCRpInitiatedLogoutNoState extends RpInitiatedLogoutTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.RemoveStateFromEndSessionEndpointRequest)
  }

  protected override async handlePostLogoutRedirect (visit: Visit): Promise<void> {
    await this.validateLogoutResults(visit, false)
  }
}

/** oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an unregistered post_logout_redirect_uri. */
export class OIDCCRpInitiatedLogoutBadLogoutRedirectUri extends RpInitiatedLogoutTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.AddBadPostLogoutRedirectUriToEndSessionEndpointRequest)
  }

  protected override createLogoutPlaceholder (): Placeholder { return errorOrConfirmation(this, 'ExpectPostLogoutRedirectUriNotRegisteredErrorPage') }
}

/** oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: the registered URI with ?foo=bar is not registered. */
export class OIDCCRpInitiatedLogoutQueryAddedToLogoutRedirectUri extends RpInitiatedLogoutTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.AddPostLogoutRedirectUriWithQueryAddedToEndSessionEndpointRequest)
  }

  protected override createLogoutPlaceholder (): Placeholder { return errorOrConfirmation(this, 'ExpectPostLogoutRedirectUriNotRegisteredErrorPage') }
}

/** oidcc-rp-initiated-logout-modified-id-token-hint: the ID token with its header changed to alg none. */
export class OIDCCRpInitiatedLogoutModifiedIdTokenHint extends RpInitiatedLogoutTest {
  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.stop(logout.ChangeIdTokenToAlgNone)
    await super.onPostAuthorizationFlowComplete()
  }

  protected override createLogoutPlaceholder (): Placeholder { return errorOrConfirmation(this, 'ExpectInvalidIdTokenHintErrorPage') }
}

/** oidcc-rp-initiated-logout-bad-id-token-hint: an ID token the suite signed itself (HS256 with the client secret). */
export class OIDCCRpInitiatedLogoutBadIdTokenHint extends RpInitiatedLogoutTest {
  protected override async onConfigure (): Promise<void> {
    await super.onConfigure()
    await this.stop(logout.GenerateJWKsFromClientSecret)
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.stop(logout.GenerateFakeIdTokenClaims)
    await this.stop(logout.SignFakeIdToken)
    await super.onPostAuthorizationFlowComplete()
  }

  protected override createLogoutPlaceholder (): Placeholder { return errorOrConfirmation(this, 'ExpectInvalidIdTokenHintErrorPage') }
}

/** oidcc-rp-initiated-logout-no-id-token-hint: a post_logout_redirect_uri but no id_token_hint. */
export class OIDCCRpInitiatedLogoutNoIdTokenHint extends RpInitiatedLogoutTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.RemoveIdTokenHintFromEndSessionEndpointRequest)
  }

  protected override createLogoutPlaceholder (): Placeholder { return errorOrConfirmation(this, 'ExpectIdTokenHintRequiredErrorPage') }
}

/** oidcc-rp-initiated-logout-no-params: no parameters at all: the user is logged out. */
export class OIDCCRpInitiatedLogoutNoParams extends SuccessfulLogoutPageTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.RemoveAllParametersFromEndSessionEndpointRequest)
  }
}

/** oidcc-rp-initiated-logout-no-post-logout-redirect-uri: no post_logout_redirect_uri: the user is logged out. */
export class OIDCCRpInitiatedLogoutNoPostLogoutRedirectUri extends SuccessfulLogoutPageTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.RemovePostLogoutRedirectUriFromEndSessionEndpointRequest)
  }
}

/** oidcc-rp-initiated-logout-only-state: only a state: the user is logged out. */
export class OIDCCRpInitiatedLogoutOnlyState extends SuccessfulLogoutPageTest {
  protected override async customiseEndSessionEndpointRequest (): Promise<void> {
    await this.stop(logout.RemoveIdTokenHintFromEndSessionEndpointRequest)
    await this.stop(logout.RemovePostLogoutRedirectUriFromEndSessionEndpointRequest)
  }
}

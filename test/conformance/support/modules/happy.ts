import { condition, fail, type Condition } from '../env.js'
import { ServerTest, type Placeholder } from '../server-test.js'
import * as authz from '../conditions/authorization.js'
import * as server from '../conditions/server.js'
import * as tokens from '../conditions/tokens.js'
import * as idt from '../conditions/id-token.js'
import * as userinfo from '../conditions/userinfo.js'

/**
 * The modules of OIDCCBasicTestPlan that complete a normal flow and check what comes back: the happy flows, the
 * userinfo calls, the scopes and claims, and the request parameters that must not break anything.
 */

/** oidcc-server (OIDCCServerTest): the happy flow, with at_hash/c_hash, the code's length and entropy. */
export class OIDCCServerTest extends ServerTest {
  protected override async additionalTokenEndpointResponseValidation (): Promise<void> {
    await super.additionalTokenEndpointResponseValidation()
    await this.warning(tokens.ExtractExpiresInFromTokenEndpointResponse)
    // at_hash and c_hash are optional in the token endpoint's ID token, but when present must be right.
    await this.info(idt.ExtractAtHash)
    if (idt.idTokenHas(this.env, 'at_hash')) await this.failure(idt.ValidateAtHash)
    await this.info(idt.ExtractCHash)
    if (idt.idTokenHas(this.env, 'c_hash')) await this.failure(idt.ValidateCHash)
  }

  protected override async performIdTokenValidation (): Promise<void> {
    await super.performIdTokenValidation()
    await this.warning(idt.EnsureIdTokenDoesNotContainName)
  }

  protected override async performAuthorizationCodeValidation (): Promise<void> {
    await this.failure(authz.EnsureMinimumAuthorizationCodeLength)
    await this.failure(authz.EnsureMinimumAuthorizationCodeEntropy)
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.warning(idt.EnsureIdTokenDoesNotContainNonRequestedClaims)
    await super.onPostAuthorizationFlowComplete()
  }
}

/**
 * oidcc-idtoken-signature: an ID token with no algorithm asked for is RS256 (OIDC Core §3.1.3.7) and has a kid. The
 * suite runs it for dynamically registered clients only (a static one may have an algorithm registered); the static
 * clients here are registered without --id-token-alg, which is what the module needs.
 */
export class OIDCCIdTokenSignature extends ServerTest {
  protected override async performIdTokenValidation (): Promise<void> {
    await this.failure(idt.EnsureIdTokenContainsKid)
    await this.failure(idt.EnsureIdTokenSignatureIsRS256)
    await super.performIdTokenValidation()
  }
}

/** oidcc-server-client-secret-post (OIDCCServerTestClientSecretPost): the base flow, run with client_secret_post. */
export class OIDCCServerTestClientSecretPost extends ServerTest {}

/** oidcc-response-type-missing: no response_type; an error back (invalid_request or unsupported_response_type) or an error page. */
export class OIDCCResponseTypeMissing extends ServerTest {
  protected override createAuthorizationRequestSequence () {
    return super.createAuthorizationRequestSequence().skip('SetAuthorizationEndpointRequestResponseTypeFromEnvironment')
  }

  protected override async performAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationRequest()
    await this.createAuthorizationRedirect()
    await this.performRedirectAndWaitForPlaceholdersOrCallback()
  }

  protected override createPlaceholder (): Placeholder {
    return errorPage('ExpectResponseTypeMissingErrorPage: an error page saying the response type is missing', /response.?type/i)
  }

  protected override async processCallback (): Promise<void> {
    const callback = this.env.need('callback')
    if (this.formPost) {
      this.env.authorizationEndpointResponse = callback.form ?? {}
      await this.failure(authz.CheckCallbackHttpMethodIsPost)
      await this.failure(authz.CheckCallbackContentTypeIsFormUrlEncoded)
      await this.failure(authz.RejectAuthCodeInUrlQuery)
      await this.failure(authz.RejectErrorInUrlQuery)
    } else {
      // No response_type was sent, so the response comes in the query.
      this.env.authorizationEndpointResponse = callback.query
    }
    await this.performGenericAuthorizationEndpointErrorResponseValidation()
    await this.failure(authz.CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType)
    this.finished()
  }
}

/** An error page (4xx, not a redirect back) whose text names what was wrong. */
export function errorPage (name: string, mentions: RegExp): Placeholder {
  return {
    name,
    problem: (visit) => {
      if (visit.page === undefined) return 'no OP page'
      if (visit.page.status < 400 || visit.page.status > 499) return `status ${visit.page.status}`
      return mentions.test(visit.page.body.replace(/<[^>]+>/g, ' ')) ? undefined : `the page does not say what is wrong (${String(mentions)})`
    }
  }
}

/** AbstractOIDCCUserInfoTest: the userinfo endpoint after the flow, and its answer checked. */
abstract class UserInfoTest extends ServerTest {
  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.callUserInfoEndpoint()
    await this.extractUserInfoResponse()
    await this.validateExtractedUserInfoResponse()
    this.finished()
  }

  protected async callUserInfoEndpoint (): Promise<void> {
    await this.stop(userinfo.CallUserInfoEndpoint)
    await this.failure(userinfo.EnsureUserInfoHttpStatusCodeIs200)
  }

  protected async extractUserInfoResponse (): Promise<void> {
    await this.failure(userinfo.EnsureContentTypeJson)
    await this.stop(userinfo.ExtractUserInfoFromUserInfoEndpointResponse)
  }

  protected async validateExtractedUserInfoResponse (): Promise<void> {
    await this.failure(userinfo.ValidateUserInfoStandardClaims)
    await this.failure(userinfo.EnsureUserInfoContainsSub)
    await this.failure(userinfo.EnsureUserInfoUpdatedAtValid)
    await this.failure(userinfo.EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources)
  }
}

/** oidcc-userinfo-get. */
export class OIDCCUserInfoGet extends UserInfoTest {}

/** oidcc-userinfo-post-header: POST with the token in the Authorization header. */
export class OIDCCUserInfoPostHeader extends UserInfoTest {
  protected override async callUserInfoEndpoint (): Promise<void> {
    this.env.resourceMethod = 'POST' // SetResourceMethodToPost
    await this.stop(userinfo.CallUserInfoEndpoint)
    await this.failure(userinfo.EnsureUserInfoHttpStatusCodeIs200)
  }
}

/** oidcc-userinfo-post-body: POST with the token in the form body (RFC 6750 §2.2): a warning in the suite, asserted here (Gatehouse supports it). */
export class OIDCCUserInfoPostBody extends UserInfoTest {
  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.callUserInfoEndpoint()
    const status = this.env.need('userinfoResponse').status
    if (status < 200 || status > 299) {
      await this.requiredWarning(userinfo.UserInfoEndpointWithAccessTokenInBodyNotSupported)
    } else {
      await this.extractUserInfoResponse()
      await this.validateExtractedUserInfoResponse()
    }
    this.finished()
  }

  protected override async callUserInfoEndpoint (): Promise<void> {
    await this.stop(userinfo.CallUserInfoEndpointWithBearerTokenInBody)
  }
}

/** oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce; a code must come back (no token request). */
export class OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow extends ServerTest {
  protected override createAuthorizationRequestSequence () {
    return super.createAuthorizationRequestSequence().skip('AddNonceToAuthorizationEndpointRequest')
  }

  protected override async performPostAuthorizationFlow (): Promise<void> {
    await this.onPostAuthorizationFlowComplete()
  }
}

/** AbstractOIDCCReturnedClaimsServerTest: the claims of the scopes asked for, from the userinfo endpoint. */
export abstract class ReturnedClaimsTest extends ServerTest {
  /** The scope the module asks for (its SetScopeInClientConfigurationTo…), or undefined to keep `openid`. */
  protected scope: string | undefined

  protected override async skipTestIfScopesNotSupported (): Promise<void> {
    if (this.scope === undefined) return
    this.setScope(this.scope)
    await this.info(server.OIDCCCheckScopesSupportedContainScopeTest)
    if (this.env.scopesNotSupported) this.skipped('scopes_supported from the discovery endpoint indicates the server doesn\'t support the scopes required for this test; so the test has been skipped')
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.stop(userinfo.CallUserInfoEndpoint)
    await this.failure(userinfo.EnsureUserInfoHttpStatusCodeIs200)
    await this.stop(userinfo.ExtractUserInfoFromUserInfoEndpointResponse)
    await this.validateUserInfoResponse()
    this.finished()
  }

  protected async validateUserInfoResponse (): Promise<void> {
    await this.failure(userinfo.ValidateUserInfoStandardClaims)
    await this.failure(userinfo.EnsureUserInfoContainsSub)
    await this.failure(userinfo.EnsureUserInfoUpdatedAtValid)
    await this.failure(userinfo.EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources)
    await this.failure(userinfo.VerifyUserInfoAndIdTokenInTokenEndpointSameSub)
    await this.warning(userinfo.VerifyScopesReturnedInUserInfoClaims)
  }
}

export class OIDCCScopeProfile extends ReturnedClaimsTest { protected override scope = 'openid profile' }
export class OIDCCScopeAddress extends ReturnedClaimsTest { protected override scope = 'openid address' }
export class OIDCCScopePhone extends ReturnedClaimsTest { protected override scope = 'openid phone' }
export class OIDCCScopeAll extends ReturnedClaimsTest { protected override scope = 'openid email phone address profile' }

/** oidcc-scope-email: and no name anywhere, no email in the ID token (scope=email asks for it at userinfo). */
export class OIDCCScopeEmail extends ReturnedClaimsTest {
  protected override scope = 'openid email'

  protected override async performIdTokenValidation (): Promise<void> {
    await super.performIdTokenValidation()
    await this.warning(idt.EnsureIdTokenDoesNotContainName)
    await this.warning(idt.EnsureIdTokenDoesNotContainEmailForScopeEmail)
  }

  protected override async validateUserInfoResponse (): Promise<void> {
    await super.validateUserInfoResponse()
    await this.warning(userinfo.EnsureUserInfoDoesNotContainName)
  }
}

/** oidcc-alternate-happy-flow: scope=email with the scopes and the query parameters in reverse order (RFC 6749 §3.3). */
export class OIDCCAlternateHappyFlow extends OIDCCScopeEmail {
  protected override createAuthorizationRequestSequence () {
    return super.createAuthorizationRequestSequence().then(authz.ReverseScopeOrderInAuthorizationEndpointRequest)
  }

  protected override async createAuthorizationRedirect (): Promise<void> {
    await this.stop(authz.BuildPlainRedirectToAuthorizationEndpointReorderedParams)
  }
}

/** oidcc-claims-essential: the name claim asked for as essential at userinfo (OIDC Core §5.5); a warning if it does not come. */
export class OIDCCClaimsEssential extends ReturnedClaimsTest {
  protected override createAuthorizationRequestSequence () {
    return super.createAuthorizationRequestSequence().then(authz.AddUserInfoEssentialNameClaimToAuthorizationEndpointRequest)
  }

  protected override async validateUserInfoResponse (): Promise<void> {
    await super.validateUserInfoResponse()
    await this.warning(userinfo.EnsureUserInfoContainsName)
    await this.warning(idt.EnsureIdTokenDoesNotContainName)
  }
}

/** A happy flow with more parameters the OP must accept (OIDC Core §3.1.2.1, §15.1: at least no error). */
abstract class ParameterTest extends ServerTest {
  protected abstract readonly parameters: Condition[]

  protected override createAuthorizationRequestSequence () {
    return super.createAuthorizationRequestSequence().then(...this.parameters)
  }
}

export class OIDCCDisplayPage extends ParameterTest { protected parameters = [authz.AddDisplayPageToAuthorizationEndpointRequest] }
export class OIDCCDisplayPopup extends ParameterTest { protected parameters = [authz.AddDisplayPopupToAuthorizationEndpointRequest] }
export class OIDCCEnsureRequestWithUnknownParameterSucceeds extends ParameterTest { protected parameters = [authz.AddExtraFoobarToAuthorizationEndpointRequest] }
export class OIDCCLoginHint extends ParameterTest { protected parameters = [authz.AddLoginHintFromConfigurationToAuthorizationEndpointRequest] }
export class OIDCCUiLocales extends ParameterTest { protected parameters = [authz.AddUiLocalesFromConfigurationToAuthorizationEndpointRequest] }
export class OIDCCClaimsLocales extends ParameterTest { protected parameters = [authz.AddClaimsLocalesSeToAuthorizationEndpointRequest] }

/** oidcc-ensure-request-with-acr-values-succeeds: and an acr among those asked for SHOULD come back (a warning). */
export class OIDCCEnsureRequestWithAcrValuesSucceeds extends ParameterTest {
  protected parameters = [authz.OIDCCAddAcrValuesToAuthorizationEndpointRequest]

  protected override async performIdTokenValidation (): Promise<void> {
    await super.performIdTokenValidation()
    await this.warning(idt.ValidateIdTokenACRClaimAgainstAcrValuesRequest)
  }
}

/** oidcc-ensure-request-with-valid-pkce-succeeds: a valid S256 PKCE request must succeed (RFC 6749 §3.1, RFC 7636). */
export class OIDCCEnsureRequestWithValidPkceSucceeds extends ParameterTest {
  protected parameters = [authz.CreateRandomCodeVerifier, authz.CreateS256CodeChallenge, authz.AddCodeChallengeToAuthorizationEndpointRequest]

  protected override async createAuthorizationCodeRequest (): Promise<void> {
    await super.createAuthorizationCodeRequest()
    await this.stop(tokens.AddCodeVerifierToTokenEndpointRequest)
  }
}

/** The suite's own failure when a code is accepted twice (a warning in oidcc-codereuse). */
export const ServerAllowedReusingAuthorizationCode = condition('ServerAllowedReusingAuthorizationCode', () =>
  fail('The authorization server allowed an authorization code to be used twice'))

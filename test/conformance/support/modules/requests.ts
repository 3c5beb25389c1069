import { command, condition, fail, isString, type StaticClient } from '../env.js'
import type { Visit } from '../agent.js'
import { describeVisit } from '../module.js'
import { ServerTest, type Placeholder } from '../server-test.js'
import { errorPage, ServerAllowedReusingAuthorizationCode } from './happy.js'
import * as authz from '../conditions/authorization.js'
import * as server from '../conditions/server.js'
import * as tokens from '../conditions/tokens.js'
import * as userinfo from '../conditions/userinfo.js'
import * as idt from '../conditions/id-token.js'

/**
 * The modules of OIDCCBasicTestPlan that send something unusual: a code twice, an unregistered redirect URI, the
 * request by POST, request objects, and refresh tokens across two clients.
 */

/** AbstractOIDCCAuthCodeReuse: the same token request again, after the flow. */
abstract class AuthCodeReuse extends ServerTest {
  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    await this.testReuseOfAuthorizationCode()
    this.finished()
  }

  protected async testReuseOfAuthorizationCode (): Promise<void> {
    await this.stop(tokens.CallTokenEndpointAndReturnFullResponse)
    await this.checkResponse()
  }

  /** RFC 6749 §5.2: 400, JSON, invalid_grant, well-formed error fields. */
  protected async checkResponse (): Promise<void> {
    await this.failure(tokens.CheckTokenEndpointHttpStatus400)
    await this.failure(tokens.CheckTokenEndpointReturnedJsonContentType)
    await this.failure(tokens.CheckErrorFromTokenEndpointResponseErrorInvalidGrant)
    await this.failure(tokens.ValidateErrorFromTokenEndpointResponseError)
    await this.warning(tokens.CheckErrorDescriptionFromTokenEndpointResponseErrorContainsCRLFTAB)
    await this.failure(tokens.ValidateErrorDescriptionFromTokenEndpointResponseError)
    await this.failure(tokens.ValidateErrorUriFromTokenEndpointResponseError)
  }
}

/** oidcc-codereuse: at once; a second success is only a warning there. */
export class OIDCCAuthCodeReuse extends AuthCodeReuse {
  protected override async checkResponse (): Promise<void> {
    if (this.env.need('tokenEndpointResponseFull').status === 200) await this.warning(ServerAllowedReusingAuthorizationCode)
    else await super.checkResponse()
  }
}

/** oidcc-codereuse-30seconds: 30 s later (the clock moves), invalid_grant; the first access token SHOULD be revoked (RFC 6749 §4.1.2). */
export class OIDCCAuthCodeReuseAfter30Seconds extends AuthCodeReuse {
  protected override async testReuseOfAuthorizationCode (): Promise<void> {
    this.env.clock.advance(30) // WaitFor30Seconds
    await super.testReuseOfAuthorizationCode()
  }

  protected override async checkResponse (): Promise<void> {
    await super.checkResponse()
    await this.stop(userinfo.CallProtectedResource)
    await this.warning(userinfo.EnsureResourceHttpStatusCodeIs4xx)
  }
}

/** oidcc-ensure-registered-redirect-uri: an unregistered redirect URI must get an error page, never a redirect. */
export class OIDCCEnsureRegisteredRedirectUri extends ServerTest {
  protected override async onConfigure (): Promise<void> {
    await this.stop(authz.CreateBadRedirectUriByAppending)
  }

  protected override async performAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationRequest()
    await this.createAuthorizationRedirect()
    await this.performRedirectAndWaitForPlaceholdersOrCallback()
  }

  protected override createPlaceholder (): Placeholder {
    return errorPage('ExpectRedirectUriErrorPage: an error page saying the redirect uri is invalid', /redirect.?uri/i)
  }

  protected override async onVisit (visit: Visit): Promise<void> {
    if (visit.arrival?.path === `callback/${this.env.need('badRedirectPath')}`) {
      this.t.fail('The authorization server redirected the user to the requested but unregistered redirect uri. This must not happen.')
    } else if (visit.arrival?.path === 'callback') {
      this.t.fail('The authorization server called the registered redirect uri. This should not have happened as the client provided a bad redirect_uri in the request.')
    } else {
      this.t.fail(`the browser ended on ${describeVisit(visit)}`)
    }
    this.finished()
  }
}

/** The redirect URI was never called (the suite waits 30 s for it). */
const ExpectRedirectUriHasBeenCalled = condition('ExpectRedirectUriHasBeenCalled', () =>
  fail('The authorization server did not call the redirect_uri after an authorization request sent by POST (OIDC Core §3.1.2.1: GET and POST MUST be supported)'))

/** oidcc-ensure-post-request-succeeds: the authorization request as a form POST (OIDC Core §3.1.2.1). */
export class OIDCCEnsurePostRequestSucceeds extends ServerTest {
  protected override async performRedirect (): Promise<void> {
    await super.performRedirect('POST')
  }

  protected override async onVisit (visit: Visit): Promise<void> {
    if (visit.arrival?.path === 'callback') return super.onVisit(visit)
    this.t.comment(`the browser ended on ${describeVisit(visit)}`)
    await this.requiredWarning(ExpectRedirectUriHasBeenCalled)
    this.finished()
  }
}

/** AbstractOIDCCRequestObjectServerTest: the request as an unsigned request object, by value (OIDC Core §6.1). */
export class OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported extends ServerTest {
  protected override async onConfigure (): Promise<void> {
    this.skipTestIfNoneUnsupported()
  }

  protected requestObjectSteps () {
    return [authz.ConvertAuthorizationEndpointRequestToRequestObject, authz.SerializeRequestObjectWithNullAlgorithm, authz.BuildRequestObjectByValueRedirectToAuthorizationEndpoint]
  }

  protected override async createAuthorizationRedirect (): Promise<void> {
    for (const step of this.requestObjectSteps()) await this.stop(step)
  }

  protected override async onAuthorizationCallbackResponse (): Promise<void> {
    if (this.env.need('authorizationEndpointResponse').error === 'request_not_supported') {
      // state was only inside the request object, so the OP need not return it.
      this.skipped('The \'request_not_supported\' error from the authorization endpoint indicates that it does not support request objects (which is permitted behaviour), so request objects cannot be tested.')
    }
    await this.warning(server.CheckDiscEndpointRequestParameterSupported)
    await super.onAuthorizationCallbackResponse()
  }
}

/**
 * oidcc-ensure-request-object-with-redirect-uri: the request object's redirect_uri is registered, the query's is not:
 * the OP must use the object's (OIDC Core §6.1) or show an invalid redirect_uri error page; never send
 * request_not_supported to the registered URI.
 */
export class OIDCCEnsureRequestObjectWithRedirectUri extends OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported {
  protected override requestObjectSteps () {
    const steps = super.requestObjectSteps()
    return [steps[0] ?? authz.ConvertAuthorizationEndpointRequestToRequestObject, authz.AddInvalidRedirectUriToAuthorizationRequest, ...steps.slice(1)]
  }

  protected override async performAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationRequest()
    await this.createAuthorizationRedirect()
    await this.performRedirectAndWaitForPlaceholdersOrCallback()
  }

  protected override createPlaceholder (): Placeholder {
    return errorPage('ExpectRedirectUriErrorPage: an error page saying the redirect uri is invalid', /redirect.?uri/i)
  }

  protected override async onAuthorizationCallbackResponse (): Promise<void> {
    if (this.env.need('authorizationEndpointResponse').error === 'request_not_supported') await this.stop(authz.EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri)
    await super.onAuthorizationCallbackResponse()
  }
}

/**
 * oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: the unsigned request object by reference
 * (OIDC Core §6.2), served by the RP; the OP must process it or answer request_uri_not_supported (then the suite skips).
 * The suite runs it for dynamically registered clients only, as it makes the request_uri in the registration request;
 * Gatehouse needs no request_uri registered, so here the module makes one before the flow.
 */
export class OIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported extends ServerTest {
  protected override async onConfigure (): Promise<void> {
    await this.stop(authz.CreateRandomRequestUriWithFragment)
    this.skipTestIfNoneUnsupported()
  }

  protected override async createAuthorizationRedirect (): Promise<void> {
    await this.stop(authz.ConvertAuthorizationEndpointRequestToRequestObject)
    await this.stop(authz.SerializeRequestObjectWithNullAlgorithm)
    await this.stop(authz.BuildRequestObjectByReferenceRedirectToAuthorizationEndpoint)
    this.ctx.op.rp.serve(this.env.need('requestUri').path, 'application/jwt', this.env.need('requestObject'))
  }

  protected override async onAuthorizationCallbackResponse (): Promise<void> {
    if (this.env.need('authorizationEndpointResponse').error === 'request_uri_not_supported') {
      // state was only inside the request object, so the OP need not return it.
      this.skipped('The \'request_uri_not_supported\' error from the authorization endpoint indicates that it does not support request_uri (which is permitted behaviour), so request_uri cannot be tested.')
    }
    await this.warning(server.CheckDiscEndpointRequestUriParameterSupported)
    await super.onAuthorizationCallbackResponse()
  }
}

/** oidcc-refresh-token (OIDCCRefreshToken, an AbstractOIDCCMultipleClient): refresh tokens work, and only for their client. */
export class OIDCCRefreshToken extends ServerTest {
  #second = false

  protected override staticClient () { return this.#second ? this.env.config.client2 : this.env.config.client }

  protected override async configureClient (): Promise<void> {
    await super.configureClient()
    this.#second = true
    const first = this.env.client
    await super.configureClient()
    this.clients = { first: first ?? this.env.need('client'), second: this.env.need('client') }
    this.switchTo('first')
  }

  protected clients: { first: StaticClient, second: StaticClient } | undefined

  protected switchTo (which: 'first' | 'second'): void {
    this.#second = which === 'second'
    this.env.client = this.clients?.[which]
  }

  protected override async completeClientConfiguration (): Promise<void> {
    this.setScope('openid')
    // SetScopeInClientConfigurationToOpenIdOfflineAccessIfServerSupportsOfflineAccess
    const supported = this.env.need('server').scopes_supported
    if (Array.isArray(supported) && supported.includes('offline_access')) this.setScope('openid offline_access')
    await this.ensureClientAuthSupported()
  }

  protected override createAuthorizationRequestSequence () {
    const nonceLength = command('requested_nonce_length', (env) => { env.requestedNonceLength = this.#second ? 43 : undefined })
    const promptConsent = condition('AddPromptConsentToAuthorizationEndpointRequestIfScopeContainsOfflineAccess', (env) => {
      const scope = env.need('authorizationEndpointRequest').scope
      if (isString(scope) && scope.includes('offline_access')) env.need('authorizationEndpointRequest').prompt = 'consent'
    })
    return super.createAuthorizationRequestSequence().insertBefore('CreateRandomNonceValue', nonceLength).then(promptConsent)
  }

  protected override async performPostAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationCodeRequest()
    await this.requestAuthorizationCode()
    this.env.firstAccessToken = this.env.accessToken
    this.env.firstIdToken = this.env.idToken
    await this.sendRefreshTokenRequestAndCheckIdTokenClaims()
    await this.requestProtectedResource()
    await this.onPostAuthorizationFlowComplete()
  }

  protected async sendRefreshTokenRequestAndCheckIdTokenClaims (): Promise<void> {
    await this.info(tokens.ExtractRefreshTokenFromTokenResponse)
    if (!this.env.refreshToken) {
      await this.warning(tokens.EnsureServerConfigurationDoesNotSupportRefreshToken)
      this.skipped('Refresh tokens cannot be tested. No refresh token was issued.')
    }
    await this.warning(tokens.EnsureServerConfigurationSupportsRefreshToken)
    await this.failure(tokens.EnsureRefreshTokenContainsAllowedCharactersOnly)
    await this.refreshTokenRequestSteps()
  }

  /** RefreshTokenRequestSteps. */
  protected async refreshTokenRequestSteps (): Promise<void> {
    await this.stop(tokens.CreateRefreshTokenRequest)
    if (!this.#second) await this.stop(tokens.AddScopeToTokenEndpointRequest)
    await this.addTokenEndpointClientAuthentication()
    this.env.clock.advance(1) // WaitForOneSecond: so the iat values differ
    await this.stop(tokens.CallTokenEndpointAndReturnFullResponse)
    await this.failure(tokens.CheckTokenEndpointHttpStatus200)
    await this.failure(tokens.CheckTokenEndpointReturnedJsonContentType)
    await this.failure(tokens.CheckTokenEndpointCacheHeaders)
    await this.stop(tokens.CheckIfTokenEndpointResponseError)
    await this.stop(tokens.ExtractAccessTokenFromTokenResponse)
    this.env.secondAccessToken = this.env.accessToken
    await this.failure(tokens.CheckTokenTypeIsBearer)
    await this.failure(tokens.EnsureMinimumAccessTokenEntropy)
    await this.failure(tokens.EnsureAccessTokenContainsAllowedCharactersOnly)
    await this.warning(tokens.ExtractExpiresInFromTokenEndpointResponse)
    if (this.env.expiresIn !== undefined) await this.failure(tokens.ValidateExpiresIn)
    await this.info(tokens.EnsureAccessTokenValuesAreDifferent)
    this.env.secondIdToken = undefined
    if (await this.info(tokens.ExtractIdTokenFromTokenResponse)) this.env.secondIdToken = this.env.idToken
    await this.info(tokens.ExtractRefreshTokenFromTokenResponse)
    if (this.env.tokenEndpointResponse?.refresh_token !== undefined) {
      await this.failure(tokens.EnsureMinimumRefreshTokenLength)
      await this.failure(tokens.EnsureMinimumRefreshTokenEntropy)
    }
    if (this.env.secondIdToken !== undefined) await this.failure(idt.CompareIdTokenClaims)
  }

  protected override async onPostAuthorizationFlowComplete (): Promise<void> {
    if (!this.#second) {
      this.env.refreshToken = undefined
      this.env.idToken = undefined
      this.switchTo('second')
      return this.performAuthorizationFlow()
    }
    await this.performSecondClientTests()
    this.finished()
  }

  /** Client 2's refresh token, presented by client 1 (RefreshTokenRequestExpectingErrorSteps): invalid_grant. */
  protected async performSecondClientTests (): Promise<void> {
    this.switchTo('first')
    await this.stop(tokens.CreateRefreshTokenRequest)
    await this.stop(tokens.AddScopeToTokenEndpointRequest)
    await this.addTokenEndpointClientAuthentication()
    await this.stop(tokens.CallTokenEndpointAndReturnFullResponse)
    await this.stop(tokens.ValidateErrorFromTokenEndpointResponseError)
    await this.failure(tokens.CheckTokenEndpointHttpStatus400)
    await this.failure(tokens.CheckTokenEndpointReturnedJsonContentType)
    await this.failure(tokens.CheckErrorFromTokenEndpointResponseErrorInvalidGrant)
  }
}

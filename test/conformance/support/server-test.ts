import type { Condition } from './env.js'
import type { Visit } from './agent.js'
import { ConformanceModule, describeVisit } from './module.js'
import * as authz from './conditions/authorization.js'
import * as server from './conditions/server.js'
import * as tokens from './conditions/tokens.js'
import * as idt from './conditions/id-token.js'
import * as userinfo from './conditions/userinfo.js'

/** A placeholder: what the page the browser stopped on (or the way there) must show, instead of a screenshot. */
export interface Placeholder {
  name: string
  /** Undefined when the visit shows what it must; else what is wrong. */
  problem: (visit: Visit) => string | undefined
}

/** A sequence of conditions each called with stop (the suite's `AbstractConditionSequence`), editable by modules. */
export class Steps {
  constructor (readonly list: Condition[]) {}
  skip (name: string): Steps { return new Steps(this.list.filter((c) => c.name !== name)) }
  then (...conditions: Condition[]): Steps { return new Steps([...this.list, ...conditions]) }
  insertBefore (name: string, condition: Condition): Steps {
    const at = this.list.findIndex((c) => c.name === name)
    return new Steps([...this.list.slice(0, at), condition, ...this.list.slice(at)])
  }

  insertAfter (name: string, condition: Condition): Steps {
    const at = this.list.findIndex((c) => c.name === name) + 1
    return new Steps([...this.list.slice(0, at), condition, ...this.list.slice(at)])
  }
}

/**
 * AbstractOIDCCServerTest, for the variants these plans use: discovery, a static client, response_type=code,
 * client_secret_basic or client_secret_post, response_mode default or form_post. Method names are the suite's.
 */
export abstract class ServerTest extends ConformanceModule {
  protected get formPost (): boolean { return this.ctx.formPost }

  protected async configure (): Promise<void> {
    await this.stop(authz.CreateRedirectUri)
    await this.stop(server.GetDynamicServerConfiguration)
    await this.stop(server.CheckServerConfiguration)
    await this.stop(server.FetchServerKeys)
    await this.warning(server.CheckServerKeysIsValid)
    await this.validateServerJwks()
    await this.failure(server.CheckForKeyIdInServerJWKs)
    await this.failure(server.CheckDistinctKeyIdValueInServerJWKs)
    await this.skipTestIfSigningAlgorithmNotSupported()
    await this.configureClient()
    await this.skipTestIfScopesNotSupported()
    await this.onConfigure()
  }

  /** ValidateJwksSequence on the server's JWKS. */
  protected async validateServerJwks (): Promise<void> {
    await this.failure(server.EnsureJwksHasNoPrivateOrSymmetricKeyMaterial)
    await this.failure(server.ValidateJwksStructure)
    await this.failure(server.ParseUsableJwksKeys)
    await this.warning(server.WarnOnUnusableJwksKeys)
  }

  protected async skipTestIfSigningAlgorithmNotSupported (): Promise<void> {}

  /** The request object modules: skipped when the server lists request object algorithms without `none`. */
  protected skipTestIfNoneUnsupported (): void {
    const algs = this.env.need('server').request_object_signing_alg_values_supported
    if (Array.isArray(algs) && !algs.includes('none')) this.skipped('\'none\' is not listed in request_object_signing_alg_values_supported - assuming it is not supported.')
  }

  protected async skipTestIfScopesNotSupported (): Promise<void> {}
  protected async onConfigure (): Promise<void> {}

  /** The client the module uses: the suite's `client` configuration (overridden by the second-client modules). */
  protected staticClient () { return this.env.config.client }

  /** GetStaticClientConfiguration, then completeClientConfiguration. */
  protected async configureClient (): Promise<void> {
    this.env.client = { ...this.staticClient() }
    await this.completeClientConfiguration()
  }

  protected setScope (scope: string): void {
    this.env.need('client').scope = scope
  }

  /** SetScopeInClientConfigurationToOpenId and the client authentication's EnsureServerConfigurationSupports…. */
  protected async completeClientConfiguration (): Promise<void> {
    this.setScope('openid')
    await this.ensureClientAuthSupported()
  }

  protected async ensureClientAuthSupported (): Promise<void> {
    await this.failure(this.ctx.clientAuth === 'client_secret_basic' ? server.EnsureServerConfigurationSupportsClientSecretBasic : server.EnsureServerConfigurationSupportsClientSecretPost)
  }

  protected async start (): Promise<void> {
    await this.performAuthorizationFlow()
  }

  protected async performAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationRequest()
    await this.createAuthorizationRedirect()
    await this.performRedirect()
  }

  /** CreateAuthorizationRequestSteps. */
  protected createAuthorizationRequestSequence (): Steps {
    return new Steps([
      authz.CreateAuthorizationEndpointRequestFromClientInformation,
      authz.CreateRandomStateValue,
      authz.AddStateToAuthorizationEndpointRequest,
      authz.CreateRandomNonceValue,
      authz.AddNonceToAuthorizationEndpointRequest,
      authz.SetAuthorizationEndpointRequestResponseTypeFromEnvironment,
      ...(this.formPost ? [authz.SetAuthorizationEndpointRequestResponseModeToFormPost] : [])
    ])
  }

  protected async callSteps (steps: Steps): Promise<void> {
    for (const step of steps.list) await this.stop(step)
  }

  protected async createAuthorizationRequest (): Promise<void> {
    await this.callSteps(this.createAuthorizationRequestSequence())
  }

  protected async createAuthorizationRedirect (): Promise<void> {
    await this.stop(authz.BuildPlainRedirectToAuthorizationEndpoint)
  }

  /** The browser goes to the authorization endpoint; the module goes on when it is back at the redirect URI. */
  protected async performRedirect (method: 'GET' | 'POST' = 'GET'): Promise<void> {
    const visit = await this.visit(this.env.need('redirectToAuthorizationEndpoint'), method)
    await this.onVisit(visit)
  }

  /** What the RP does with the visit's end: a callback is processed; nothing else is expected. */
  protected async onVisit (visit: Visit): Promise<void> {
    if (visit.arrival?.path === 'callback') {
      this.env.callback = visit.arrival
      await this.processCallback()
      return
    }
    this.t.fail(`the OP did not redirect back to the redirect_uri: the browser ended on ${describeVisit(visit)}`)
    this.finished()
  }

  protected createPlaceholder (): Placeholder {
    throw new Error(`no placeholder for ${this.constructor.name}`)
  }

  /** performRedirectAndWaitForPlaceholdersOrCallback: an OP page that shows what the placeholder asks, or a callback. */
  protected async performRedirectAndWaitForPlaceholdersOrCallback (): Promise<void> {
    const placeholder = this.createPlaceholder()
    const visit = await this.visit(this.env.need('redirectToAuthorizationEndpoint'))
    if (visit.arrival === undefined) {
      const problem = placeholder.problem(visit)
      this.placeholder(problem === undefined, placeholder.name, problem)
      this.finished()
    }
    await this.onVisit(visit)
  }

  /** performRedirectWithPlaceholder: the module goes on with the callback, and the way there must show the placeholder. */
  protected async performRedirectWithPlaceholder (): Promise<void> {
    const placeholder = this.createPlaceholder()
    const visit = await this.visit(this.env.need('redirectToAuthorizationEndpoint'))
    const problem = placeholder.problem(visit)
    this.placeholder(problem === undefined, placeholder.name, problem)
    await this.onVisit(visit)
  }

  protected async processCallback (): Promise<void> {
    const callback = this.env.need('callback')
    if (this.formPost) {
      this.env.authorizationEndpointResponse = callback.form ?? {}
      await this.failure(authz.CheckCallbackHttpMethodIsPost)
      await this.failure(authz.CheckCallbackContentTypeIsFormUrlEncoded)
      await this.failure(authz.RejectAuthCodeInUrlQuery)
      await this.failure(authz.RejectErrorInUrlQuery)
    } else {
      this.env.authorizationEndpointResponse = callback.query
    }
    await this.onAuthorizationCallbackResponse()
  }

  protected async onAuthorizationCallbackResponse (): Promise<void> {
    await this.failure(authz.CheckMatchingCallbackParameters)
    await this.failure(authz.ValidateIssIfPresentInAuthorizationResponse)
    await this.stop(authz.CheckIfAuthorizationEndpointError)
    await this.failure(authz.CheckStateInAuthorizationResponse)
    await this.stop(authz.ExtractAuthorizationCodeFromAuthorizationResponse)
    await this.handleSuccessfulAuthorizationEndpointResponse()
  }

  protected async handleSuccessfulAuthorizationEndpointResponse (): Promise<void> {
    await this.performAuthorizationCodeValidation()
    await this.performPostAuthorizationFlow()
  }

  protected async performAuthorizationCodeValidation (): Promise<void> {}

  protected async performPostAuthorizationFlow (): Promise<void> {
    await this.createAuthorizationCodeRequest()
    await this.requestAuthorizationCode()
    await this.requestProtectedResource()
    await this.onPostAuthorizationFlowComplete()
  }

  /** The client authentication of the variant (AddBasicAuthClientSecretToRequest or AddFormBasedClientSecretToRequest). */
  protected async addTokenEndpointClientAuthentication (): Promise<void> {
    await this.stop(this.ctx.clientAuth === 'client_secret_basic' ? tokens.AddBasicAuthClientSecretToRequest : tokens.AddFormBasedClientSecretToRequest)
  }

  protected async createAuthorizationCodeRequest (): Promise<void> {
    await this.stop(tokens.CreateTokenEndpointRequestForAuthorizationCodeGrant)
    await this.addTokenEndpointClientAuthentication()
  }

  protected async callTokenEndpoint (): Promise<void> {
    await this.stop(tokens.CallTokenEndpointAndReturnFullResponse)
    await this.stop(tokens.CheckTokenEndpointHttpStatus200)
  }

  protected async requestAuthorizationCode (): Promise<void> {
    await this.callTokenEndpoint()
    await this.stop(tokens.CheckIfTokenEndpointResponseError)
    await this.stop(tokens.CheckForAccessTokenValue)
    await this.stop(tokens.ExtractAccessTokenFromTokenResponse)
    await this.info(tokens.ExtractExpiresInFromTokenEndpointResponse)
    if (this.env.expiresIn !== undefined) await this.failure(tokens.ValidateExpiresIn)
    await this.info(tokens.CheckForRefreshTokenValue)
    await this.stop(tokens.ExtractIdTokenFromTokenResponse)
    this.env.tokenEndpointIdToken = this.env.idToken
    await this.additionalTokenEndpointResponseValidation()
  }

  protected async additionalTokenEndpointResponseValidation (): Promise<void> {
    await this.performIdTokenValidation()
  }

  /** PerformStandardIdTokenChecks. */
  protected async performIdTokenValidation (): Promise<void> {
    await this.failure(idt.ValidateIdToken)
    await this.failure(idt.ValidateIdTokenStandardClaims)
    await this.failure(idt.ValidateIdTokenNonce)
    await this.failure(idt.ValidateIdTokenACRClaimAgainstRequest)
    await this.failure(idt.ValidateIdTokenSignature)
    await this.failure(idt.CheckForSubjectInIdToken)
    await this.failure(idt.EnsureIdTokenUpdatedAtValid)
  }

  protected async requestProtectedResource (): Promise<void> {
    await this.stop(userinfo.CallProtectedResource)
    await this.failure(userinfo.EnsureResourceHttpStatusCodeIs200)
  }

  /** The checks of an error sent back from the authorization endpoint (its specific error is the caller's). */
  protected async performGenericAuthorizationEndpointErrorResponseValidation (): Promise<void> {
    await this.failure(authz.CheckStateInAuthorizationResponse)
    await this.failure(authz.ValidateIssIfPresentInAuthorizationResponse)
    await this.failure(authz.EnsureErrorFromAuthorizationEndpointResponse)
    await this.failure(authz.RejectAuthCodeInAuthorizationEndpointResponse)
    await this.warning(authz.CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint)
    await this.warning(authz.CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB)
    await this.failure(authz.ValidateErrorDescriptionFromAuthorizationEndpointResponseError)
    await this.failure(authz.ValidateErrorUriFromAuthorizationEndpointResponseError)
  }

  protected async onPostAuthorizationFlowComplete (): Promise<void> {
    this.finished()
  }
}

import { ConformanceModule } from '../module.js'
import * as server from '../conditions/server.js'

/** The discovery document and JWKS checks: OIDCCConfigTestPlan's one module, and the RP-Initiated Logout plan's. */

/** oidcc-discovery-endpoint-verification (OIDCCDiscoveryEndpointVerification, a static client). */
export class OIDCCDiscoveryEndpointVerification extends ConformanceModule {
  protected async configure (): Promise<void> {
    await this.stop(server.GetDynamicServerConfiguration)
    await this.failure(server.EnsureDiscoveryEndpointResponseStatusCodeIs200)
    await this.failure(server.CheckDiscoveryEndpointReturnedJsonContentType)
  }

  protected async start (): Promise<void> {
    const has = (path: string) => server.serverHas(this.env, path)
    await this.failure(server.OIDCCCheckDiscEndpointResponseTypesSupported)
    await this.failure(server.CheckDiscEndpointDiscoveryUrl)
    await this.failure(server.CheckDiscEndpointIssuer)
    await this.failure(server.CheckDiscEndpointIssuerIsValidUrl)
    await this.failure(server.ValidateServerMetadataAgainstSchema)
    await this.warning(server.CheckForUnexpectedParametersInServerMetadata)
    await this.failure(server.CheckDiscEndpointSubjectTypesSupported)
    await this.failure(server.OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported)
    await this.unlessMissing(has('userinfo_signing_alg_values_supported'), server.OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported, 'FAILURE', 'INFO', 'userinfo_signing_alg_values_supported')
    await this.failure(server.CheckDiscEndpointAuthorizationEndpoint)
    await this.failure(server.CheckDiscEndpointTokenEndpoint)
    // The userinfo endpoint is recommended: a warning when there is none.
    await this.unlessMissing(has('userinfo_endpoint'), server.CheckDiscEndpointUserinfoEndpoint, 'FAILURE', 'WARNING', 'userinfo_endpoint')
    await this.unlessMissing(has('registration_endpoint'), server.CheckDiscEndpointRegistrationEndpoint, 'FAILURE', 'INFO', 'registration_endpoint')
    await this.failure(server.CheckJwksUri)
    await this.stop(server.FetchServerKeys)
    await this.failure(server.EnsureJwksHasNoPrivateOrSymmetricKeyMaterial)
    await this.failure(server.ValidateJwksStructure)
    await this.failure(server.ParseUsableJwksKeys)
    await this.warning(server.WarnOnUnusableJwksKeys)
    await this.info(server.CheckDiscEndpointRequestParameterSupported)
    await this.info(server.CheckDiscEndpointRequestUriParameterSupported)
    await this.unlessMissing(has('request_object_signing_alg_values_supported'), server.CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256, 'WARNING', 'INFO', 'request_object_signing_alg_values_supported')
    await this.info(server.CheckDiscEndpointClaimsParameterSupported)
    // claims_supported is recommended, not required.
    await this.warning(server.OIDCCCheckDiscEndpointClaimsSupported)
    await this.failure(server.OIDCCCheckDiscEndpointGrantTypesSupported)
    await this.unlessMissing(has('scopes_supported'), server.CheckDiscEndpointScopesSupportedContainsOpenId, 'FAILURE', 'WARNING', 'scopes_supported')
    await this.failure(server.CheckDiscEndpointScopesSupportedSyntax)
    await this.failure(server.CheckDiscEndpointLocalesSyntax)
    await this.warning(server.CheckDiscEndpointLocalesCanonicalCasing)
    await this.failure(server.CheckDiscEndpointAllEndpointsAreHttps)
    await this.failure(server.EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray)
  }
}

/** oidcc-rp-initiated-logout-discovery-endpoint-verification: every endpoint https, an end_session_endpoint. */
export class OIDCCRpInitiatedLogoutDiscoveryEndpointVerification extends ConformanceModule {
  protected async configure (): Promise<void> {
    await this.stop(server.GetDynamicServerConfiguration)
  }

  protected async start (): Promise<void> {
    await this.failure(server.CheckDiscEndpointAllEndpointsAreHttps)
    await this.failure(server.CheckDiscEndSessionEndpoint)
  }
}

import type { Test } from 'tap'
import type { ConformanceModule, ModuleContext } from './module.js'
import type { ConformanceOp } from './op.js'
import * as happy from './modules/happy.js'
import * as sessions from './modules/sessions.js'
import * as requests from './modules/requests.js'
import * as logout from './modules/logout.js'
import * as discovery from './modules/discovery.js'

/**
 * The four plans, module by module, in the suite's order: each module under its published name
 * (`@PublishTestModule(testName = …)`), the class that ports it, and why it is skipped (the suite's own reason) or
 * still `todo` (a feature another branch of issue 23 builds). `CONFORMANCE_RUN_TODO=1` runs the todo modules too, as
 * plain tests: the way to see which todos can go.
 */
export interface PlanModule {
  name: string
  module?: new (t: Test, ctx: ModuleContext) => ConformanceModule
  clientAuth?: ModuleContext['clientAuth']
  /** The suite's @VariantNotApplicable for these variants: the module is not run. */
  notApplicable?: string
  /** The features it waits for: `needs …`. */
  todo?: string
  /** Said at the start of the module's test (a comment). */
  note?: string
}

/** The suite's @VariantNotApplicable for static clients is about what it cannot register; here the clients are as the module needs. */
const RUN_FOR_STATIC = 'the suite runs this module for dynamically registered clients only: the static clients here are registered as it needs, so it runs'
const STATIC_CLIENT = 'not applicable to static clients (@VariantNotApplicable(parameter = ClientRegistration.class, values = { "static_client" }))'

export const PKCE_OPTIONAL = 'PKCE optional per client (requests without code_challenge)'
export const RS256 = 'RS256 ID tokens listed in id_token_signing_alg_values_supported'
export const RS256_DEFAULT = 'RS256 ID tokens by default'
export const REQUEST_URI_REFUSED = 'request_uri processed or refused with request_uri_not_supported'
export const POST_AUTHORIZE = 'POST /authorize'
export const REQUEST_REFUSED = 'request objects processed or refused with request_not_supported'
export const USERINFO_BODY = '/userinfo with the access token in a form body'
export const FORM_POST = 'response_mode=form_post'
/** The form_post plan's request_uri refusal must come by POST, but its response_mode is inside the object a request_uri names. */
export const REQUEST_URI_FETCHED = 'request_uri objects fetched (the form_post plan puts response_mode inside the object, so its refusal can only come by POST once the object is read)'
export const LOGOUT_CHECKS = 'RP-initiated logout that asks the user or shows an error when the request cannot be trusted (no or a bad id_token_hint, an unregistered post_logout_redirect_uri)'

/** The features Gatehouse has: a module waiting only for these runs as a plain test. */
const LANDED = new Set([PKCE_OPTIONAL, POST_AUTHORIZE, REQUEST_REFUSED, REQUEST_URI_REFUSED, FORM_POST, USERINFO_BODY, LOGOUT_CHECKS, RS256, RS256_DEFAULT])

/** The `todo` of a module waiting for `features`: undefined (a plain test) once every one has landed. */
const needs = (...features: string[]): string | undefined => {
  const missing = features.filter((feature) => !LANDED.has(feature))
  return missing.length === 0 ? undefined : `needs ${missing.join(', ')}`
}

/** OIDCCBasicTestPlan: response_type=code, client_secret_basic (post for one module), the default response mode. */
export const BASIC_PLAN: PlanModule[] = [
  { name: 'oidcc-server', module: happy.OIDCCServerTest, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-response-type-missing', module: happy.OIDCCResponseTypeMissing },
  { name: 'oidcc-idtoken-signature', module: happy.OIDCCIdTokenSignature, note: RUN_FOR_STATIC, todo: needs(PKCE_OPTIONAL, RS256_DEFAULT) },
  { name: 'oidcc-idtoken-unsigned', notApplicable: STATIC_CLIENT },
  { name: 'oidcc-userinfo-get', module: happy.OIDCCUserInfoGet, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-userinfo-post-header', module: happy.OIDCCUserInfoPostHeader, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-userinfo-post-body', module: happy.OIDCCUserInfoPostBody, todo: needs(PKCE_OPTIONAL, USERINFO_BODY) },
  { name: 'oidcc-ensure-request-without-nonce-succeeds-for-code-flow', module: happy.OIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-scope-profile', module: happy.OIDCCScopeProfile, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-scope-email', module: happy.OIDCCScopeEmail, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-scope-address', module: happy.OIDCCScopeAddress },
  { name: 'oidcc-scope-phone', module: happy.OIDCCScopePhone },
  { name: 'oidcc-scope-all', module: happy.OIDCCScopeAll },
  { name: 'oidcc-alternate-happy-flow', module: happy.OIDCCAlternateHappyFlow, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-display-page', module: happy.OIDCCDisplayPage, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-display-popup', module: happy.OIDCCDisplayPopup, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-prompt-login', module: sessions.OIDCCPromptLogin, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-prompt-none-not-logged-in', module: sessions.OIDCCPromptNoneNotLoggedIn, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-prompt-none-logged-in', module: sessions.OIDCCPromptNoneLoggedIn, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-max-age-1', module: sessions.OIDCCMaxAge1, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-max-age-10000', module: sessions.OIDCCMaxAge10000, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ensure-request-with-unknown-parameter-succeeds', module: happy.OIDCCEnsureRequestWithUnknownParameterSucceeds, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-id-token-hint', module: sessions.OIDCCIdTokenHint, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-login-hint', module: happy.OIDCCLoginHint, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ui-locales', module: happy.OIDCCUiLocales, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-claims-locales', module: happy.OIDCCClaimsLocales, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ensure-request-with-acr-values-succeeds', module: happy.OIDCCEnsureRequestWithAcrValuesSucceeds, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-codereuse', module: requests.OIDCCAuthCodeReuse, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-codereuse-30seconds', module: requests.OIDCCAuthCodeReuseAfter30Seconds, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ensure-registered-redirect-uri', module: requests.OIDCCEnsureRegisteredRedirectUri },
  { name: 'oidcc-ensure-post-request-succeeds', module: requests.OIDCCEnsurePostRequestSucceeds, todo: needs(PKCE_OPTIONAL, POST_AUTHORIZE) },
  { name: 'oidcc-server-client-secret-post', module: happy.OIDCCServerTestClientSecretPost, clientAuth: 'client_secret_post', todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported', module: requests.OIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported, note: RUN_FOR_STATIC, todo: needs(PKCE_OPTIONAL, REQUEST_URI_REFUSED) },
  { name: 'oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', module: requests.OIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported, todo: needs(PKCE_OPTIONAL, REQUEST_REFUSED) },
  { name: 'oidcc-claims-essential', module: happy.OIDCCClaimsEssential, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ensure-request-object-with-redirect-uri', module: requests.OIDCCEnsureRequestObjectWithRedirectUri },
  { name: 'oidcc-refresh-token', module: requests.OIDCCRefreshToken, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-ensure-request-with-valid-pkce-succeeds', module: happy.OIDCCEnsureRequestWithValidPkceSucceeds }
]

/**
 * OIDCCFormPostBasicTestPlan: the same modules with response_mode=form_post (AbstractFormPostTestPlan). Those that end
 * on an error page, or are skipped for the scopes_supported, never see a form_post response.
 */
const FORM_POST_INDEPENDENT = ['oidcc-scope-address', 'oidcc-scope-phone', 'oidcc-scope-all', 'oidcc-ensure-registered-redirect-uri', 'oidcc-ensure-request-object-with-redirect-uri']
/**
 * Modules the Basic plan runs here although the suite marks them not applicable to static clients (RUN_FOR_STATIC),
 * which the Form Post plan skips with the suite's own reason: the request_uri module's response_mode=form_post is
 * inside the object the request_uri names, and Gatehouse never fetches a request_uri (an SSRF primitive that PAR
 * makes unnecessary), so its refusal can only come back the default way (REQUEST_URI_FETCHED would be needed).
 */
const FORM_POST_STATIC_ONLY = ['oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported']
export const FORM_POST_PLAN: PlanModule[] = BASIC_PLAN.map((entry) => {
  if (FORM_POST_STATIC_ONLY.includes(entry.name)) return { name: entry.name, notApplicable: STATIC_CLIENT }
  if (entry.module === undefined || FORM_POST_INDEPENDENT.includes(entry.name)) return entry
  const features = [...(entry.todo === undefined ? [] : [entry.todo]), FORM_POST]
  const todo = needs(...features.filter((f) => !f.startsWith('needs ')))
  const earlier = entry.todo
  return { ...entry, todo: earlier === undefined ? todo : todo === undefined ? earlier : `${earlier}, ${todo.slice('needs '.length)}` }
})

/** OIDCCConfigTestPlan: discovery, a static client. */
export const CONFIG_PLAN: PlanModule[] = [
  { name: 'oidcc-discovery-endpoint-verification', module: discovery.OIDCCDiscoveryEndpointVerification, todo: needs(RS256) }
]

/** OIDCCRpInitiatedLogoutTestPlan: discovery, client_secret_basic, the default response mode. */
export const RP_INITIATED_LOGOUT_PLAN: PlanModule[] = [
  { name: 'oidcc-rp-initiated-logout-discovery-endpoint-verification', module: discovery.OIDCCRpInitiatedLogoutDiscoveryEndpointVerification },
  { name: 'oidcc-rp-initiated-logout', module: logout.OIDCCRpInitiatedLogout, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-rp-initiated-logout-bad-post-logout-redirect-uri', module: logout.OIDCCRpInitiatedLogoutBadLogoutRedirectUri, todo: needs(PKCE_OPTIONAL, LOGOUT_CHECKS) },
  { name: 'oidcc-rp-initiated-logout-modified-id-token-hint', module: logout.OIDCCRpInitiatedLogoutModifiedIdTokenHint, todo: needs(PKCE_OPTIONAL, LOGOUT_CHECKS) },
  { name: 'oidcc-rp-initiated-logout-no-id-token-hint', module: logout.OIDCCRpInitiatedLogoutNoIdTokenHint, todo: needs(PKCE_OPTIONAL, LOGOUT_CHECKS) },
  { name: 'oidcc-rp-initiated-logout-no-params', module: logout.OIDCCRpInitiatedLogoutNoParams, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-rp-initiated-logout-no-post-logout-redirect-uri', module: logout.OIDCCRpInitiatedLogoutNoPostLogoutRedirectUri, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-rp-initiated-logout-no-state', module: logout.OIDCCRpInitiatedLogoutNoState, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-rp-initiated-logout-only-state', module: logout.OIDCCRpInitiatedLogoutOnlyState, todo: needs(PKCE_OPTIONAL) },
  { name: 'oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri', module: logout.OIDCCRpInitiatedLogoutQueryAddedToLogoutRedirectUri, todo: needs(PKCE_OPTIONAL, LOGOUT_CHECKS) },
  { name: 'oidcc-rp-initiated-logout-bad-id-token-hint', module: logout.OIDCCRpInitiatedLogoutBadIdTokenHint, todo: needs(PKCE_OPTIONAL, LOGOUT_CHECKS) }
]

const runTodo = process.env.CONFORMANCE_RUN_TODO === '1'

/** One `t.test` per module, in order, against one OP. */
export async function runPlan (t: Test, plan: PlanModule[], op: ConformanceOp, variant: { formPost: boolean }): Promise<void> {
  for (const entry of plan) {
    const { module: Module } = entry
    if (entry.notApplicable !== undefined || Module === undefined) {
      await t.test(entry.name, { skip: entry.notApplicable ?? 'not ported' }, async () => {})
      continue
    }
    const options = entry.todo === undefined || runTodo ? {} : { todo: entry.todo }
    await t.test(entry.name, options, async (t) => {
      if (entry.note !== undefined) t.comment(entry.note)
      await new Module(t, { op, formPost: variant.formPost, clientAuth: entry.clientAuth ?? 'client_secret_basic' }).run()
    })
  }
}

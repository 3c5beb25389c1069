import { createHash, randomInt } from 'node:crypto'
import { condition, fail, isObject, isString, type Condition, type Env } from '../env.js'
import { mimeType, randomValue, errorDescriptionHasNoCrLfTab, errorDescriptionValid, errorUriValid, ensureEntropy, ensureLength } from './shared.js'

/** The authorization request as the suite builds it, and its checks of the redirect back. */

const request = (env: Env) => env.need('authorizationEndpointRequest')
const response = (env: Env) => env.need('authorizationEndpointResponse')
const callback = (env: Env) => env.need('callback')

/** Adds one parameter to the authorization request (the suite's Add…ToAuthorizationEndpointRequest). */
const adding = (name: string, parameter: string, value: (env: Env) => unknown): Condition =>
  condition(name, (env) => { request(env)[parameter] = value(env) })

export const CreateRedirectUri = condition('CreateRedirectUri', (env) => { env.redirectUri = `${env.baseUrl}/callback` })

export const CreateBadRedirectUriByAppending = condition('CreateBadRedirectUriByAppending', (env) => {
  env.badRedirectPath = randomValue(10)
  env.redirectUri = `${env.baseUrl}/callback/${env.badRedirectPath}`
})

export const CreateAuthorizationEndpointRequestFromClientInformation = condition('CreateAuthorizationEndpointRequestFromClientInformation', (env) => {
  const client = env.need('client')
  const built: Record<string, unknown> = { client_id: client.client_id, redirect_uri: env.need('redirectUri') }
  if (client.scope) built.scope = client.scope
  env.authorizationEndpointRequest = built
})

export const CreateRandomStateValue = condition('CreateRandomStateValue', (env) => { env.state = randomValue(env.requestedStateLength) })
export const AddStateToAuthorizationEndpointRequest = adding('AddStateToAuthorizationEndpointRequest', 'state', (env) => env.need('state'))
export const CreateRandomNonceValue = condition('CreateRandomNonceValue', (env) => { env.nonce = randomValue(env.requestedNonceLength) })
export const AddNonceToAuthorizationEndpointRequest = adding('AddNonceToAuthorizationEndpointRequest', 'nonce', (env) => env.need('nonce'))
export const SetAuthorizationEndpointRequestResponseTypeFromEnvironment = adding('SetAuthorizationEndpointRequestResponseTypeFromEnvironment', 'response_type', () => 'code')
export const SetAuthorizationEndpointRequestResponseModeToFormPost = adding('SetAuthorizationEndpointRequestResponseModeToFormPost', 'response_mode', () => 'form_post')
export const AddDisplayPageToAuthorizationEndpointRequest = adding('AddDisplayPageToAuthorizationEndpointRequest', 'display', () => 'page')
export const AddDisplayPopupToAuthorizationEndpointRequest = adding('AddDisplayPopupToAuthorizationEndpointRequest', 'display', () => 'popup')
export const AddPromptLoginToAuthorizationEndpointRequest = adding('AddPromptLoginToAuthorizationEndpointRequest', 'prompt', () => 'login')
export const AddPromptNoneToAuthorizationEndpointRequest = adding('AddPromptNoneToAuthorizationEndpointRequest', 'prompt', () => 'none')
export const AddMaxAge1ToAuthorizationEndpointRequest = adding('AddMaxAge1ToAuthorizationEndpointRequest', 'max_age', () => 1)
export const AddMaxAge10000ToAuthorizationEndpointRequest = adding('AddMaxAge10000ToAuthorizationEndpointRequest', 'max_age', () => 10000)
export const AddMaxAge15000ToAuthorizationEndpointRequest = adding('AddMaxAge15000ToAuthorizationEndpointRequest', 'max_age', () => 15000)
export const AddExtraFoobarToAuthorizationEndpointRequest = adding('AddExtraFoobarToAuthorizationEndpointRequest', 'extra', () => 'foobar')
export const AddIdTokenHintFromFirstLoginToAuthorizationEndpointRequest = adding('AddIdTokenHintFromFirstLoginToAuthorizationEndpointRequest', 'id_token_hint', (env) => env.need('firstIdToken').value)
export const AddLoginHintFromConfigurationToAuthorizationEndpointRequest = adding('AddLoginHintFromConfigurationToAuthorizationEndpointRequest', 'login_hint', (env) => env.config.loginHint)
/** No `server.ui_locales` in the configuration: the suite sends `se`. */
export const AddUiLocalesFromConfigurationToAuthorizationEndpointRequest = adding('AddUiLocalesFromConfigurationToAuthorizationEndpointRequest', 'ui_locales', () => 'se')
export const AddClaimsLocalesSeToAuthorizationEndpointRequest = adding('AddClaimsLocalesSeToAuthorizationEndpointRequest', 'claims_locales', () => 'se')

/** acr_values: those the server advertises, or `1 2`. */
export const OIDCCAddAcrValuesToAuthorizationEndpointRequest = adding('OIDCCAddAcrValuesToAuthorizationEndpointRequest', 'acr_values', (env) => {
  const supported = env.need('server').acr_values_supported
  return Array.isArray(supported) ? supported.map(String).join(' ') : '1 2'
})

/** AbstractAddClaimToAuthorizationEndpointRequest: `claims` = {"userinfo": {"name": {"essential": true}}} (OIDC Core §5.5). */
export const AddUserInfoEssentialNameClaimToAuthorizationEndpointRequest = condition('AddUserInfoEssentialNameClaimToAuthorizationEndpointRequest', (env) => {
  const claims = isObject(request(env).claims) ? request(env).claims as Record<string, unknown> : {}
  const userinfo = isObject(claims.userinfo) ? claims.userinfo : {}
  userinfo.name = { essential: true }
  claims.userinfo = userinfo
  request(env).claims = claims
})

export const ReverseScopeOrderInAuthorizationEndpointRequest = condition('ReverseScopeOrderInAuthorizationEndpointRequest', (env) => {
  const scope = request(env).scope
  if (!isString(scope) || scope === '') fail('no scope found')
  const scopes = scope.split(' ')
  if (scopes.length < 2) fail('\'scope\' in the configuration must contain more than one scope to run this test')
  request(env).scope = scopes.reverse().join(' ')
})

/** SetupPkceAndAddToAuthorizationRequest: a 128-character verifier, its S256 challenge, both in the request. */
export const CreateRandomCodeVerifier = condition('CreateRandomCodeVerifier', (env) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'
  env.codeVerifier = Array.from({ length: 128 }, () => alphabet[randomInt(alphabet.length)]).join('')
})
export const CreateS256CodeChallenge = condition('CreateS256CodeChallenge', (env) => {
  env.codeChallenge = createHash('sha256').update(env.need('codeVerifier'), 'ascii').digest('base64url')
  env.codeChallengeMethod = 'S256'
})
export const AddCodeChallengeToAuthorizationEndpointRequest = condition('AddCodeChallengeToAuthorizationEndpointRequest', (env) => {
  request(env).code_challenge = env.need('codeChallenge')
  request(env).code_challenge_method = env.need('codeChallengeMethod')
})

export const AddInvalidRedirectUriToAuthorizationRequest = condition('AddInvalidRedirectUriToAuthorizationRequest', (env) => {
  // UriComponentsBuilder.path("_invalid") appends to the path as it is: …/callback_invalid.
  const url = new URL(env.need('redirectUri'))
  url.pathname += '_invalid'
  request(env).redirect_uri = url.href
})

/** A parameter's value in the URL: strings as they are, numbers as numbers, objects (claims) as JSON. */
const asParameter = (value: unknown): string => isString(value) ? value : typeof value === 'number' ? String(value) : JSON.stringify(value)

function redirectTo (env: Env, params: Array<[string, unknown]>): string {
  const url = new URL(String(env.need('server').authorization_endpoint))
  for (const [name, value] of params) url.searchParams.append(name, asParameter(value))
  return url.href
}

/** BuildPlainRedirectToAuthorizationEndpoint: the parameters in alphabetical order. */
export const BuildPlainRedirectToAuthorizationEndpoint = condition('BuildPlainRedirectToAuthorizationEndpoint', (env) => {
  env.redirectToAuthorizationEndpoint = redirectTo(env, Object.entries(request(env)).sort(([a], [b]) => a < b ? -1 : 1))
})

/** …ReorderedParams: in reverse alphabetical order (RFC 6749 §3.1: their order must not matter). */
export const BuildPlainRedirectToAuthorizationEndpointReorderedParams = condition('BuildPlainRedirectToAuthorizationEndpointReorderedParams', (env) => {
  env.redirectToAuthorizationEndpoint = redirectTo(env, Object.entries(request(env)).sort(([a], [b]) => a < b ? 1 : -1))
})

export const ConvertAuthorizationEndpointRequestToRequestObject = condition('ConvertAuthorizationEndpointRequestToRequestObject', (env) => {
  env.requestObjectClaims = structuredClone(request(env))
})

/** SerializeRequestObjectWithNullAlgorithm: an unsecured JWT (RFC 7519 §6), header {"alg":"none"}. */
export const SerializeRequestObjectWithNullAlgorithm = condition('SerializeRequestObjectWithNullAlgorithm', (env) => {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  env.requestObject = `${part({ alg: 'none' })}.${part(env.need('requestObjectClaims'))}.`
})

/**
 * BuildRequestObjectByValueRedirectToAuthorizationEndpoint: `request` plus, as OIDC Core §6.1 requires,
 * response_type, client_id, scope and redirect_uri in the query, and any parameter whose value differs from the
 * request object's (state and nonce are in the object only).
 */
export const BuildRequestObjectByValueRedirectToAuthorizationEndpoint = condition('BuildRequestObjectByValueRedirectToAuthorizationEndpoint', (env) => {
  env.redirectToAuthorizationEndpoint = redirectTo(env, withRequestObject(env, ['request', env.need('requestObject')]))
})

/** AbstractBuildRequestObjectRedirectToAuthorizationEndpoint: the object's parameter, and the query's duplicates, sorted. */
function withRequestObject (env: Env, parameter: [string, string]): Array<[string, unknown]> {
  const object = env.need('requestObjectClaims')
  const params: Array<[string, unknown]> = [parameter]
  for (const [name, value] of Object.entries(request(env))) {
    if (isObject(value) || (object[name] !== undefined && isObject(object[name]))) continue
    if (['response_type', 'client_id', 'scope', 'redirect_uri'].includes(name) || object[name] === undefined || asParameter(object[name]) !== asParameter(value)) params.push([name, value])
  }
  return params.sort(([a], [b]) => a < b ? -1 : 1)
}

/** CreateRandomRequestUriWithFragment: an RP URL for the request object, with a fragment (OIDC Core §6.2). */
export const CreateRandomRequestUriWithFragment = condition('CreateRandomRequestUriWithFragment', (env) => {
  const path = `requesturi/${randomValue(64)}`
  env.requestUri = { path, fullUrl: `${env.baseUrl}/${path}#${createHash('sha256').update(randomValue(64)).digest('base64url')}` }
})

/** BuildRequestObjectByReferenceRedirectToAuthorizationEndpoint: `request_uri` plus the parameters OIDC Core §6.2 wants in the query. */
export const BuildRequestObjectByReferenceRedirectToAuthorizationEndpoint = condition('BuildRequestObjectByReferenceRedirectToAuthorizationEndpoint', (env) => {
  env.redirectToAuthorizationEndpoint = redirectTo(env, withRequestObject(env, ['request_uri', env.need('requestUri').fullUrl]))
})

// The redirect back.

/** CheckMatchingCallbackParameters: a query the registered redirect URI has comes back with it. */
export const CheckMatchingCallbackParameters = condition('CheckMatchingCallbackParameters', (env) => {
  for (const [name, expected] of new URL(env.need('redirectUri')).searchParams) {
    if (callback(env).query[name] !== expected) fail('the redirect URI\'s own query parameters must come back on the redirect', { parameter: name, expected, actual: callback(env).query[name] })
  }
})

/** RFC 9207 §2.4: `iss`, when present, is the issuer. */
export const ValidateIssIfPresentInAuthorizationResponse = condition('ValidateIssIfPresentInAuthorizationResponse', (env) => {
  const iss = response(env).iss
  if (iss !== undefined && iss !== env.need('server').issuer) fail('\'iss\' parameter in authorization response does not match server\'s issuer value', { expected: env.need('server').issuer, actual: iss })
})

export const CheckIfAuthorizationEndpointError = condition('CheckIfAuthorizationEndpointError', (env) => {
  if (response(env).error) fail('The authorization was expected to succeed, but the server returned an error from the authorization endpoint', response(env))
})

export const CheckStateInAuthorizationResponse = condition('CheckStateInAuthorizationResponse', (env) => {
  const actual = response(env).state
  const expected = env.state
  if (!expected) {
    if (actual) fail('No state value was sent, but a state in response was returned', { actual })
    return
  }
  if (actual === expected) return
  const error = response(env).error
  if (!actual && (error === 'invalid_request_object' || error === 'invalid_request_uri')) return
  if (!actual) fail('State was passed in request, but is missing from response (or returned in the wrong place)', { expected })
  fail('State in response did not match', { expected, actual })
})

export const ExtractAuthorizationCodeFromAuthorizationResponse = condition('ExtractAuthorizationCodeFromAuthorizationResponse', (env) => {
  const code = response(env).code
  if (!code) fail('Couldn\'t find authorization code in authorization_endpoint_response, \'code\' parameter is missing/empty')
  env.code = code
})

export const CheckCallbackHttpMethodIsPost = condition('CheckCallbackHttpMethodIsPost', (env) => {
  if (callback(env).method !== 'POST') fail('The HTTP method used at redirect_uri is not \'POST\'', { method: callback(env).method })
})

export const CheckCallbackContentTypeIsFormUrlEncoded = condition('CheckCallbackContentTypeIsFormUrlEncoded', (env) => {
  const contentType = callback(env).headers['content-type']
  if (contentType === undefined) fail('content-type header to redirect_uri is missing')
  if (contentType !== 'application/x-www-form-urlencoded') fail('content-type header to redirect_uri does not have the expected value', { content_type: contentType })
})

export const RejectAuthCodeInUrlQuery = condition('RejectAuthCodeInUrlQuery', (env) => {
  if (callback(env).query.code) fail('Authorization code is present in URL query returned from authorization endpoint')
})

export const RejectErrorInUrlQuery = condition('RejectErrorInUrlQuery', (env) => {
  if (callback(env).query.error) fail('\'error\' is present in URL query returned from authorization endpoint')
})

export const EnsureErrorFromAuthorizationEndpointResponse = condition('EnsureErrorFromAuthorizationEndpointResponse', (env) => {
  if (!('error' in response(env))) fail('Authorization server was expected to return an error but did not', response(env))
})

export const RejectAuthCodeInAuthorizationEndpointResponse = condition('RejectAuthCodeInAuthorizationEndpointResponse', (env) => {
  if (callback(env).query.code !== undefined) fail('Authorization code is present in URL query but an error was expected')
  if (callback(env).fragment.code !== undefined) fail('Authorization code is present in URL fragment but an error was expected')
})

export const CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint = condition('CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint', (env) => {
  if (!('error' in response(env))) fail('Authorization server was expected to return an error but did not', response(env))
  const unexpected = Object.keys(response(env)).filter((name) => !['error', 'error_description', 'error_uri', 'state', 'session_state', 'iss'].includes(name))
  if (unexpected.length > 0) fail('error response includes unexpected parameters', unexpected)
})

export const CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB = condition('CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB', (env) => errorDescriptionHasNoCrLfTab(response(env)))
export const ValidateErrorDescriptionFromAuthorizationEndpointResponseError = condition('ValidateErrorDescriptionFromAuthorizationEndpointResponseError', (env) => errorDescriptionValid(response(env)))
export const ValidateErrorUriFromAuthorizationEndpointResponseError = condition('ValidateErrorUriFromAuthorizationEndpointResponseError', (env) => errorUriValid(response(env)))

const errorIsOneOf = (name: string, expected: string[]) => condition(name, (env) => {
  const error = response(env).error
  if (!error) fail('Expected \'error\' field not found')
  if (!expected.includes(error)) fail('\'error\' field has an unexpected value', { expected, actual: error })
})

export const CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType = errorIsOneOf('CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType', ['unsupported_response_type', 'invalid_request'])
export const CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface = errorIsOneOf('CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface', ['interaction_required', 'login_required', 'account_selection_required', 'consent_required'])

export const EnsureMinimumAuthorizationCodeLength = condition('EnsureMinimumAuthorizationCodeLength', (env) => {
  const code = response(env).code
  if (!code) fail('Can\'t find authorization code')
  ensureLength(code, 128, 'Authorization code')
})

export const EnsureMinimumAuthorizationCodeEntropy = condition('EnsureMinimumAuthorizationCodeEntropy', (env) => {
  const code = response(env).code
  if (!code) fail('Can\'t find authorization code')
  ensureEntropy(code, 96, 'Authorization code')
})

/** The request object was refused as unsupported, yet the redirect went to the registered URI after an invalid one. */
export const EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri = condition('EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri', () =>
  fail('An invalid redirect_uri was included in the authorization request but the OP redirected to a default redirect_uri instead of displaying an error page'))

/** Whether a callback's body was a form (the form_post checks read it). */
export const callbackIsForm = (env: Env): boolean => mimeType(env.callback?.headers['content-type']) === 'application/x-www-form-urlencoded'

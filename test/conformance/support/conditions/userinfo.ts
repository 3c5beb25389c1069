import { condition, fail, isObject, isString, type Env } from '../env.js'
import { FORM_CONTENT_TYPE, header, httpsRequest, jsonOf, type HttpResult } from '../http.js'
import { mimeType, objectValid, SCOPE_STANDARD_CLAIMS, STANDARD_CLAIMS, updatedAtValid } from './shared.js'

/** The userinfo endpoint (OIDC Core §5.3) as the suite calls it, and its checks of the answer. */

const userinfo = (env: Env) => env.need('userinfo')

/** AbstractCallProtectedResourceWithBearerToken: `Authorization: <token_type> <token>`, Accept JSON; a POST has a form content type and no body. */
async function callWithBearerHeader (env: Env): Promise<HttpResult> {
  const { value, type } = env.need('accessToken')
  if (!/^(bearer|dpop)$/i.test(type)) fail('Access token is neither a bearer nor a dpop token', { token_type: type })
  const headers: Record<string, string> = { authorization: `${type} ${value}`, accept: 'application/json' }
  if (env.resourceMethod === 'POST') headers['content-type'] = FORM_CONTENT_TYPE
  return httpsRequest(String(env.need('server').userinfo_endpoint ?? fail('"userinfo_endpoint" missing from server configuration')), { method: env.resourceMethod, headers })
}

export const CallUserInfoEndpoint = condition('CallUserInfoEndpoint', async (env) => { env.userinfoResponse = await callWithBearerHeader(env) })

/** CallUserInfoEndpointWithBearerTokenInBody: POST, `access_token` in a form body (RFC 6750 §2.2), no Authorization header. */
export const CallUserInfoEndpointWithBearerTokenInBody = condition('CallUserInfoEndpointWithBearerTokenInBody', async (env) => {
  const { value, type } = env.need('accessToken')
  if (type.toLowerCase() !== 'bearer') fail('Access token is not a bearer token', { token_type: type })
  env.userinfoResponse = await httpsRequest(String(env.need('server').userinfo_endpoint), {
    method: 'POST',
    headers: { 'content-type': FORM_CONTENT_TYPE, accept: 'application/json' },
    body: new URLSearchParams({ access_token: value }).toString()
  })
})

/** CallProtectedResource with the userinfo endpoint as the protected resource (SetProtectedResourceUrlToUserInfoEndpoint). */
export const CallProtectedResource = condition('CallProtectedResource', async (env) => { env.resourceResponse = await callWithBearerHeader(env) })

const statusOf = (response: HttpResult | undefined) => response?.status ?? fail('no endpoint response')

export const EnsureUserInfoHttpStatusCodeIs200 = condition('EnsureHttpStatusCodeIs200', (env) => {
  const status = statusOf(env.userinfoResponse)
  if (status !== 200) fail('userinfo endpoint returned an unexpected http status', { http_status: status, expected_status: 200 })
})
export const EnsureResourceHttpStatusCodeIs200 = condition('EnsureHttpStatusCodeIs200', (env) => {
  const status = statusOf(env.resourceResponse)
  if (status !== 200) fail('resource endpoint returned an unexpected http status', { http_status: status, expected_status: 200 })
})
export const EnsureResourceHttpStatusCodeIs4xx = condition('EnsureHttpStatusCodeIs4xx', (env) => {
  const status = statusOf(env.resourceResponse)
  if (status < 400 || status > 499) fail('resource endpoint returned a different http status than expected', { actual: status, expected: '400 to 499' })
})

export const EnsureContentTypeJson = condition('EnsureContentTypeJson', (env) => {
  const contentType = header(env.need('userinfoResponse'), 'content-type')
  if (contentType === undefined) fail('Couldn\'t find content-type header in endpoint_response')
  if (mimeType(contentType) !== 'application/json') fail('Invalid content-type header in endpoint_response', { expected: 'application/json', actual: contentType })
})

export const ExtractUserInfoFromUserInfoEndpointResponse = condition('ExtractUserInfoFromUserInfoEndpointResponse', (env) => {
  env.userinfo = undefined
  const body = jsonOf(env.need('userinfoResponse'))
  if (body === undefined) fail('UserInfo endpoint response is not JSON')
  if (!isObject(body)) fail('UserInfo endpoint response is not a JSON object')
  env.userinfo = body
})

export const ValidateUserInfoStandardClaims = condition('ValidateUserInfoStandardClaims', (env) => {
  const wrong = objectValid(userinfo(env), STANDARD_CLAIMS)
  if (wrong.length > 0) fail('Userinfo is not valid', wrong)
})

export const EnsureUserInfoContainsSub = condition('EnsureUserInfoContainsSub', (env) => {
  if (!isString(userinfo(env).sub) || userinfo(env).sub === '') fail('sub not found in userinfo')
})

export const EnsureUserInfoUpdatedAtValid = condition('EnsureUserInfoUpdatedAtValid', (env) => updatedAtValid(userinfo(env), 'userinfo', env.now()))

/** OIDC Core §5.6.2: every source in _claim_sources is named by a value of _claim_names. */
export const EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources = condition('EnsureMemberValuesInClaimNameReferenceToMemberNamesInClaimSources', (env) => {
  const { _claim_names: names, _claim_sources: sources } = userinfo(env)
  if (names === undefined && sources === undefined) return
  if (names === undefined) fail('userinfo response contains \'_claim_sources\' but not \'_claim_names\'')
  if (sources === undefined) fail('userinfo response contains \'_claim_names\' but not \'_claim_sources\'')
  if (!isObject(names) || !isObject(sources)) fail('_claim_names and _claim_sources must be objects')
  const referenced = new Set(Object.values(names).map(String))
  const orphan = Object.keys(sources).find((source) => !referenced.has(source))
  if (orphan !== undefined) fail(`Member name '${orphan}' in userinfo response '_claim_sources' is not referenced by member values in '_claim_names'`)
})

/** OIDC Core §5.3.2: the sub of userinfo is the ID token's (the token endpoint's, for the code flow). */
export const VerifyUserInfoAndIdTokenInTokenEndpointSameSub = condition('VerifyUserInfoAndIdTokenInTokenEndpointSameSub', (env) => {
  const sub = userinfo(env).sub
  const idTokenSub = env.need('tokenEndpointIdToken').claims.sub
  if (!isString(sub) || sub === '') fail('"sub" not found in UserInfo response')
  if (!isString(idTokenSub) || idTokenSub === '') fail('"sub" not found in token_endpoint_id_token')
  if (sub !== idTokenSub) fail('"sub" in user info response doesn\'t match with "sub" in token_endpoint_id_token', { sub_user_info: sub, sub_id_token: idTokenSub })
})

/** VerifyScopesReturnedInUserInfoClaims: every claim the requested scopes stand for is there. */
export const VerifyScopesReturnedInUserInfoClaims = condition('VerifyScopesReturnedInUserInfoClaims', (env) => {
  const scope = env.need('authorizationEndpointRequest').scope
  if (!isString(scope) || scope === '') fail('\'scope\' not found in authorization endpoint request')
  const expected = scope.split(' ').flatMap((s) => SCOPE_STANDARD_CLAIMS[s] ?? [])
  const missing = expected.filter((claim) => !(claim in userinfo(env)))
  if (missing.length > 0) fail('\'claims\' in userinfo doesn\'t contain all the standard claims of the requested scopes', { missing_items: missing })
})

export const EnsureUserInfoContainsName = condition('EnsureUserInfoContainsName', (env) => {
  if (!isString(userinfo(env).name) || userinfo(env).name === '') fail('name not found in userinfo')
})

export const EnsureUserInfoDoesNotContainName = condition('EnsureUserInfoDoesNotContainName', (env) => {
  if (userinfo(env).name !== undefined) fail('Unexpectedly found name in userinfo response: the suite did not ask for it', { name: userinfo(env).name })
})

/** The access token in a form body was refused: allowed by the standards, a warning in the suite. */
export const UserInfoEndpointWithAccessTokenInBodyNotSupported = condition('UserInfoEndpointWithAccessTokenInBodyNotSupported', (env) =>
  fail('the userinfo endpoint refused an access token in the request body (RFC 6750 §2.2)', { status: env.userinfoResponse?.status }))

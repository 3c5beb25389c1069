import { condition, fail, isObject, isString, type Env } from '../env.js'
import { FORM_CONTENT_TYPE, header, httpsRequest, jsonOf } from '../http.js'
import { ensureEntropy, ensureLength, errorDescriptionHasNoCrLfTab, errorDescriptionValid, errorUriValid, ERROR_CHARS, formEncode, mimeType, parseJwt } from './shared.js'

/** The token endpoint as the suite calls it (code and refresh grants, client authentication) and its checks. */

const tokenRequest = (env: Env) => env.need('tokenEndpointRequest')
const tokenResponse = (env: Env) => env.need('tokenEndpointResponse')

export const CreateTokenEndpointRequestForAuthorizationCodeGrant = condition('CreateTokenEndpointRequestForAuthorizationCodeGrant', (env) => {
  env.tokenEndpointRequest = { form: { grant_type: 'authorization_code', code: env.need('code'), redirect_uri: env.need('redirectUri') }, headers: {} }
})

export const CreateRefreshTokenRequest = condition('CreateRefreshTokenRequest', (env) => {
  env.tokenEndpointRequest = { form: { grant_type: 'refresh_token', refresh_token: env.need('refreshToken') }, headers: {} }
})

export const AddScopeToTokenEndpointRequest = condition('AddScopeToTokenEndpointRequest', (env) => {
  const scope = env.need('client').scope
  if (!scope) fail('scope missing/empty in client object')
  tokenRequest(env).form.scope = scope
})

/** RFC 6749 §2.3.1: Basic with the form-encoded id and secret. */
export const AddBasicAuthClientSecretToRequest = condition('AddBasicAuthClientSecretToRequest', (env) => {
  const { client_id: id, client_secret: secret } = env.need('client')
  tokenRequest(env).headers.Authorization = 'Basic ' + Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')
})

export const AddFormBasedClientSecretToRequest = condition('AddFormBasedClientSecretToRequest', (env) => {
  const { client_id: id, client_secret: secret } = env.need('client')
  Object.assign(tokenRequest(env).form, { client_id: id, client_secret: secret })
})

export const AddCodeVerifierToTokenEndpointRequest = condition('AddCodeVerifierToTokenEndpointRequest', (env) => {
  tokenRequest(env).form.code_verifier = env.need('codeVerifier')
})

/** CallTokenEndpointAndReturnFullResponse: any status is kept; a body that is not a JSON object ends the module. */
export const CallTokenEndpointAndReturnFullResponse = condition('CallTokenEndpointAndReturnFullResponse', async (env) => {
  const { form, headers } = tokenRequest(env)
  const response = await httpsRequest(String(env.need('server').token_endpoint), {
    method: 'POST',
    headers: { ...headers, 'content-type': FORM_CONTENT_TYPE, accept: 'application/json' },
    body: new URLSearchParams(form).toString()
  })
  env.tokenEndpointResponseFull = response
  env.tokenEndpointResponse = undefined
  if (response.body === '') fail('Missing or empty response from the token endpoint')
  const body = jsonOf(response)
  if (body === undefined) fail('the token endpoint did not return JSON', response.body.slice(0, 200))
  if (!isObject(body)) fail('the token endpoint did not return a JSON object', response.body.slice(0, 200))
  env.tokenEndpointResponse = body
})

const statusIs = (expected: number) => condition(`CheckTokenEndpointHttpStatus${expected}`, (env) => {
  const { status } = env.need('tokenEndpointResponseFull')
  if (status !== expected) fail('Invalid http status', { actual: status, expected })
})
export const CheckTokenEndpointHttpStatus200 = statusIs(200)
export const CheckTokenEndpointHttpStatus400 = statusIs(400)

export const CheckTokenEndpointReturnedJsonContentType = condition('CheckTokenEndpointReturnedJsonContentType', (env) => {
  const contentType = header(env.need('tokenEndpointResponseFull'), 'content-type')
  if (contentType === undefined) fail('Couldn\'t find content-type header in token_endpoint_response_headers')
  if (mimeType(contentType) !== 'application/json') fail('Invalid content-type header in token_endpoint_response_headers', { expected: 'application/json', actual: contentType })
})

/** RFC 6749 §5.1: Cache-Control: no-store. */
export const CheckTokenEndpointCacheHeaders = condition('CheckTokenEndpointCacheHeaders', (env) => {
  const value = env.need('tokenEndpointResponseFull').headers['cache-control']
  if (value === undefined) fail('token endpoint response does not contain \'cache-control\' header')
  const values: string[] = Array.isArray(value) ? value : [value]
  if (!values.some((v) => v.split(',').some((piece) => piece.trim() === 'no-store'))) fail('\'cache-control\' header in token endpoint response does not contain no-store', { 'cache-control': value })
})

export const CheckIfTokenEndpointResponseError = condition('CheckIfTokenEndpointResponseError', (env) => {
  if (tokenResponse(env).error) fail('The token endpoint call was expected to succeed, but it returned an error response', tokenResponse(env))
})

export const CheckForAccessTokenValue = condition('CheckForAccessTokenValue', (env) => {
  if (!tokenResponse(env).access_token) fail('access_token is missing or empty in token endpoint response')
  if (!tokenResponse(env).token_type) fail('token_type is missing or empty in token endpoint response')
})

export const ExtractAccessTokenFromTokenResponse = condition('ExtractAccessTokenFromTokenResponse', (env) => {
  const { access_token: value, token_type: type } = tokenResponse(env)
  if (!isString(value) || value === '') fail('Couldn\'t find access token in token_endpoint_response')
  if (!isString(type) || type === '') fail('Couldn\'t find token type in token_endpoint_response')
  env.accessToken = { value, type }
})

export const ExtractExpiresInFromTokenEndpointResponse = condition('ExtractExpiresInFromTokenEndpointResponse', (env) => {
  env.expiresIn = undefined
  if (tokenResponse(env).expires_in === undefined) fail('\'expires_in\' not present in the token endpoint response. RFC6749 recommends expires_in is included.')
  env.expiresIn = tokenResponse(env).expires_in
})

export const ValidateExpiresIn = condition('ValidateExpiresIn', (env) => {
  const value = env.expiresIn
  if (typeof value !== 'number') fail('expires_in is not a number', { expires_in: value })
  if (Math.trunc(value) <= 0) fail('expires_in must be positive')
  if (value > 31536000) fail('expires_in is unreasonably large (more than 1 year)', { expires_in: value })
})

export const CheckForRefreshTokenValue = condition('CheckForRefreshTokenValue', (env) => {
  if (!tokenResponse(env).refresh_token) fail('Couldn\'t find refresh token')
})

export const ExtractRefreshTokenFromTokenResponse = condition('ExtractRefreshTokenFromTokenResponse', (env) => {
  const value = tokenResponse(env).refresh_token
  if (!isString(value)) fail('Token endpoint response does not contain a refresh token')
  env.refreshToken = value
})

/** ExtractIdTokenFromTokenResponse: the ID token, parsed; kept as the token endpoint's. */
export const ExtractIdTokenFromTokenResponse = condition('ExtractIdTokenFromTokenResponse', (env) => {
  env.idToken = undefined
  const value = tokenResponse(env).id_token
  if (!isString(value)) fail('Couldn\'t find id_token in token_endpoint_response')
  env.idToken = parseJwt(value, 'id_token')
})

export const CheckErrorFromTokenEndpointResponseErrorInvalidGrant = condition('CheckErrorFromTokenEndpointResponseErrorInvalidGrant', (env) => {
  const error = tokenResponse(env).error
  if (!error) fail('Expected \'error\' field not found')
  if (error !== 'invalid_grant') fail('\'error\' field has unexpected value', { expected: 'invalid_grant', actual: error })
})

export const ValidateErrorFromTokenEndpointResponseError = condition('ValidateErrorFromTokenEndpointResponseError', (env) => {
  const error = tokenResponse(env).error
  if (!isString(error) || error === '') fail('The authorization server was expected to return an error, but the \'error\' field in the response is either null or empty')
  if (!ERROR_CHARS.test(error)) fail('\'error\' field MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E', { error })
})

export const ValidateErrorDescriptionFromTokenEndpointResponseError = condition('ValidateErrorDescriptionFromTokenEndpointResponseError', (env) => errorDescriptionValid(tokenResponse(env)))
export const ValidateErrorUriFromTokenEndpointResponseError = condition('ValidateErrorUriFromTokenEndpointResponseError', (env) => errorUriValid(tokenResponse(env)))
export const CheckErrorDescriptionFromTokenEndpointResponseErrorContainsCRLFTAB = condition('CheckErrorDescriptionFromTokenEndpointResponseErrorContainsCRLFTAB', (env) => errorDescriptionHasNoCrLfTab(tokenResponse(env)))

/** The server issued a refresh token or did not; what grant_types_supported says should agree (OIDC Discovery §3). */
const grantTypes = (env: Env) => env.need('server').grant_types_supported
export const EnsureServerConfigurationDoesNotSupportRefreshToken = condition('EnsureServerConfigurationDoesNotSupportRefreshToken', (env) => {
  const supported = grantTypes(env)
  if (supported === undefined) return
  if (!Array.isArray(supported)) fail('grant_types_supported is present in the discovery document but is not an array')
  if (supported.includes('refresh_token')) fail('The server supports refresh tokens, but did not issue one', { grant_types_supported: supported })
})
export const EnsureServerConfigurationSupportsRefreshToken = condition('EnsureServerConfigurationSupportsRefreshToken', (env) => {
  const supported = grantTypes(env)
  if (supported === undefined) fail('The server issued a refresh token but grant_types_supported is not in the discovery document')
  if (!Array.isArray(supported)) fail('grant_types_supported is present in the discovery document but is not an array')
  if (!supported.includes('refresh_token')) fail('The server issued a refresh token but does not claim to support this grant type', { grant_types_supported: supported })
})

/** RFC 6749 Appendix A.12 and A.17: VSCHAR only. */
const VSCHARS = /^[\x20-\x7E]+$/
export const EnsureRefreshTokenContainsAllowedCharactersOnly = condition('EnsureRefreshTokenContainsAllowedCharactersOnly', (env) => {
  const value = tokenResponse(env).refresh_token
  if (isString(value) && !VSCHARS.test(value)) fail('Refresh token contains illegal characters (RFC 6749: only %x20-7E)')
})
export const EnsureAccessTokenContainsAllowedCharactersOnly = condition('EnsureAccessTokenContainsAllowedCharactersOnly', (env) => {
  const value = tokenResponse(env).access_token
  if (!isString(value)) fail('Token endpoint response does not contain an access_token')
  if (!VSCHARS.test(value)) fail('Access token contains illegal characters (RFC 6749: only %x20-7E)')
})

export const CheckTokenTypeIsBearer = condition('CheckTokenTypeIsBearer', (env) => {
  const type = tokenResponse(env).token_type
  if (!isString(type) || type === '') fail('Couldn\'t find token type')
  if (type.toLowerCase() !== 'bearer') fail('Token type is not bearer', { token_type: type })
})

export const EnsureMinimumAccessTokenEntropy = condition('EnsureMinimumAccessTokenEntropy', (env) => {
  const value = tokenResponse(env).access_token
  if (!isString(value) || value === '') fail('Can\'t find access token')
  ensureEntropy(value, 96, 'Access token')
})
export const EnsureMinimumRefreshTokenLength = condition('EnsureMinimumRefreshTokenLength', (env) => {
  const value = tokenResponse(env).refresh_token
  if (!isString(value) || value === '') fail('Can\'t find refresh token')
  ensureLength(value, 128, 'Refresh token')
})
export const EnsureMinimumRefreshTokenEntropy = condition('EnsureMinimumRefreshTokenEntropy', (env) => {
  const value = tokenResponse(env).refresh_token
  if (!isString(value) || value === '') fail('Can\'t find refresh token')
  ensureEntropy(value, 96, 'Refresh token')
})

export const EnsureAccessTokenValuesAreDifferent = condition('EnsureAccessTokenValuesAreDifferent', (env) => {
  if (env.need('firstAccessToken').value === env.need('secondAccessToken').value) fail('Access token values are not different')
})

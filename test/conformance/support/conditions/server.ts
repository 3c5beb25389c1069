import { importJWK, type JWK } from 'jose'
import { at, condition, fail, isObject, isString, type Env } from '../env.js'
import { header, httpsRequest, jsonOf } from '../http.js'
import { mimeType } from './shared.js'

/**
 * The server's metadata and keys, as the suite reads and checks them: GetDynamicServerConfiguration, FetchServerKeys,
 * the ValidateJwksSequence, and the discovery document checks of OIDCCDiscoveryEndpointVerification.
 */

const server = (env: Env) => env.need('server')

export const GetDynamicServerConfiguration = condition('GetDynamicServerConfiguration', async (env) => {
  let response
  try {
    response = await httpsRequest(env.config.discoveryUrl, { headers: { accept: 'application/json' } })
  } catch (err) {
    fail(`Unable to fetch server configuration from ${env.config.discoveryUrl}: ${(err as Error).message}`)
  }
  env.discoveryResponse = response
  if (response.body === '') fail('empty server configuration')
  const document = jsonOf(response)
  if (!isObject(document)) fail('the server configuration is not a JSON object', response.body.slice(0, 200))
  env.server = document
})

export const EnsureDiscoveryEndpointResponseStatusCodeIs200 = condition('EnsureDiscoveryEndpointResponseStatusCodeIs200', (env) => {
  const { status } = env.need('discoveryResponse')
  if (status !== 200) fail('discovery_endpoint_response returned an unexpected status code', { http_status: status })
})

export const CheckDiscoveryEndpointReturnedJsonContentType = condition('CheckDiscoveryEndpointReturnedJsonContentType', (env) => {
  const contentType = header(env.need('discoveryResponse'), 'content-type')
  if (contentType === undefined) fail('Couldn\'t find content-type header in discovery_endpoint_response')
  if (mimeType(contentType) !== 'application/json') fail('Invalid content-type header in discovery_endpoint_response', { expected: 'application/json', actual: contentType })
})

/** CheckServerConfiguration: the endpoints every flow needs are there, as URLs. */
export const CheckServerConfiguration = condition('CheckServerConfiguration', (env) => {
  for (const key of ['authorization_endpoint', 'token_endpoint', 'issuer']) {
    const value = server(env)[key]
    if (!isString(value) || value === '') fail('Couldn\'t find required component', { required: key })
    if (!URL.canParse(value)) fail('Couldn\'t parse key as URL', { key, url: value })
  }
})

export const FetchServerKeys = condition('FetchServerKeys', async (env) => {
  const jwksUri = server(env).jwks_uri
  if (!isString(jwksUri) || jwksUri === '') fail('Didn\'t find jwks_uri in the server configuration')
  const response = await httpsRequest(jwksUri, { headers: { accept: 'application/json' } }).catch((err: Error) => fail(`Fetching server keys from ${jwksUri} failed - ${err.message}`))
  if (response.status < 200 || response.status >= 300) fail(`Fetching server keys from ${jwksUri} failed`, { status: response.status })
  const jwks = jsonOf(response)
  if (!isObject(jwks)) fail('Server JWKs set string is not a JSON object')
  env.serverJwks = jwks
})

const keysOf = (jwks: Record<string, unknown>): unknown[] => Array.isArray(jwks.keys) ? jwks.keys : []
const KNOWN_CURVES: Record<string, string[]> = { EC: ['P-256', 'P-384', 'P-521', 'secp256k1'], OKP: ['Ed25519', 'Ed448', 'X25519', 'X448'] }
const KNOWN_ALGS = new Set(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES256K', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519',
  'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'dir',
  'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW'])

/** A key the suite's JOSE library cannot use (JWKUtil.findUnusableKeys): a warning, as a recipient ignores it. */
function unusable (key: Record<string, unknown>): string | undefined {
  const kty = key.kty
  if (!isString(kty)) return undefined
  if (!['EC', 'RSA', 'oct', 'OKP'].includes(kty)) return `unsupported key type ${kty}`
  const curves = KNOWN_CURVES[kty]
  if (curves && isString(key.crv) && key.crv !== '' && !curves.includes(key.crv)) return `unsupported curve ${key.crv}`
  if (isString(key.alg) && key.alg !== '' && !KNOWN_ALGS.has(key.alg)) return `unrecognised algorithm ${key.alg}`
  return undefined
}

/** ValidateJwksSequence, EnsureJwksHasNoPrivateOrSymmetricKeyMaterial: a published set holds public keys only. */
export const EnsureJwksHasNoPrivateOrSymmetricKeyMaterial = condition('EnsureJwksHasNoPrivateOrSymmetricKeyMaterial', (env) => {
  keysOf(env.need('serverJwks')).forEach((key, index) => {
    if (!isObject(key)) return
    if (key.kty === 'oct') fail(`the key at index ${index} is a symmetric (oct) key`)
    const member = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'].find((m) => m in key)
    if (member !== undefined) fail(`the key at index ${index} contains private key material (member '${member}')`)
  })
})

/** ValidateJwksSequence, ValidateJwksStructure: a `keys` array; each key an object with its type's members, base64url. */
export const ValidateJwksStructure = condition('ValidateJwksStructure', (env) => {
  const jwks = env.need('serverJwks')
  if (!Array.isArray(jwks.keys)) fail('the JWK set does not contain a \'keys\' array')
  keysOf(jwks).forEach((key, index) => {
    if (!isObject(key)) fail(`the key at index ${index} is not a JSON object`)
    if (!isString(key.kty)) fail(`the key at index ${index} is missing the required 'kty' member`)
    const members = ({ RSA: [['e', 'n'], ['e', 'n']], EC: [['x', 'y'], ['x', 'y']], OKP: [['x', 'crv'], ['x']] } as Record<string, [string[], string[]]>)[key.kty]
    if (!members) return
    const missing = members[0].find((m) => !(m in key))
    if (missing !== undefined) fail(`the key at index ${index} is missing the required '${missing}' member for a ${key.kty} key`)
    const bad = members[1].find((m) => !isString(key[m]) || !/^[A-Za-z0-9_-]*$/.test(key[m]))
    if (bad !== undefined) fail(`the key at index ${index} has a '${bad}' value that is not valid unpadded base64url`)
  })
})

/** ValidateJwksSequence, ParseUsableJwksKeys: every key the library can use does import. */
export const ParseUsableJwksKeys = condition('ParseUsableJwksKeys', async (env) => {
  const keys = keysOf(env.need('serverJwks'))
  for (const [index, key] of keys.entries()) {
    if (!isObject(key) || unusable(key) !== undefined) continue
    const alg = isString(key.alg) ? key.alg : ({ RSA: 'RS256', EC: key.crv === 'P-384' ? 'ES384' : key.crv === 'P-521' ? 'ES512' : 'ES256', OKP: 'EdDSA' } as Record<string, string>)[String(key.kty)]
    if (alg === undefined) continue
    try {
      await importJWK(key as JWK, alg)
    } catch (err) {
      fail(`the key at index ${index} cannot be parsed (${(err as Error).message})`)
    }
  }
})

export const WarnOnUnusableJwksKeys = condition('WarnOnUnusableJwksKeys', (env) => {
  keysOf(env.need('serverJwks')).forEach((key, index) => {
    const reason = isObject(key) ? unusable(key) : undefined
    if (reason !== undefined) fail(`the key at index ${index}: ${reason}`)
  })
})

export const CheckServerKeysIsValid = condition('CheckServerKeysIsValid', (env) => {
  const jwks = env.need('serverJwks')
  if (!Array.isArray(jwks.keys)) fail('Unable to parse JWK set: no keys array')
  if (!jwks.keys.every(isObject)) fail('Unable to parse JWK set: a key is not an object')
})

export const CheckForKeyIdInServerJWKs = condition('CheckForKeyIdInServerJWKs', (env) => {
  const keys = env.need('serverJwks').keys
  if (!Array.isArray(keys)) fail('keys entry in JWKs is not an array')
  for (const key of keys) {
    if (!isObject(key)) fail('invalid key in JWKs, not a JSON object', key)
    if (!isString(key.kid) || key.kid.trim() === '') fail('kid not found in key', key)
  }
})

export const CheckDistinctKeyIdValueInServerJWKs = condition('CheckDistinctKeyIdValueInServerJWKs', (env) => {
  const keys = env.need('serverJwks').keys
  if (!Array.isArray(keys)) fail('keys entry in JWKs is not an array')
  const seen = new Set<string>()
  for (const key of keys) {
    if (!isObject(key)) fail('invalid key in JWKs, not a JSON object', key)
    if (key.kid === undefined) continue
    if (seen.has(String(key.kid))) fail('\'kid\' value is used more than once in server_jwks', { kid: key.kid })
    seen.add(String(key.kid))
  }
})

/** AbstractValidateJsonArray: `name` is an array holding at least `minimum` of `wanted` (all of them by default). */
function arrayHolds (env: Env, name: string, wanted: string[], minimum = wanted.length, message = `${name} does not contain ${wanted.join(', ')}`, equal = (a: string, b: string) => a === b): void {
  const values = server(env)[name]
  if (values === undefined) fail(`${name}: not found`)
  if (!Array.isArray(values)) fail(`'${name}' should be an array`)
  const found = wanted.filter((w) => values.some((v) => isString(v) && equal(w, v))).length
  if (found < minimum) fail(message, { expected: wanted, actual: values })
}

/** AbstractValidateJsonBoolean: absent means `absent`; it must be `required`. */
function booleanIs (env: Env, name: string, absent: boolean, required: boolean): void {
  const value = server(env)[name]
  if (value === undefined) {
    if (absent !== required) fail(`'${name}' should be '${String(required)}', but is absent and the default value is '${String(absent)}'`)
    return
  }
  if (typeof value !== 'boolean') fail(`${name}: incorrect type, must be a boolean`)
  if (value !== required) fail(`${name} must be: ${String(required)}`)
}

/** AbstractJsonUriIsValidAndHttps. */
export function httpsUrl (env: Env, name: string): void {
  const value = server(env)[name]
  if (value === undefined) fail(`${name}: URL not found`)
  if (!isString(value)) fail(`${name} is expected to be a string containing a URL`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail(`${name} is not a valid URL`, { url: value })
  }
  if (url.protocol !== 'https:') fail(`${name} must use the https scheme`, { url: value })
}

export const EnsureServerConfigurationSupportsClientSecretBasic = condition('EnsureServerConfigurationSupportsClientSecretBasic', (env) => {
  if (server(env).token_endpoint_auth_methods_supported !== undefined) arrayHolds(env, 'token_endpoint_auth_methods_supported', ['client_secret_basic'])
})

export const EnsureServerConfigurationSupportsClientSecretPost = condition('EnsureServerConfigurationSupportsClientSecretPost', (env) => {
  if (server(env).token_endpoint_auth_methods_supported !== undefined) arrayHolds(env, 'token_endpoint_auth_methods_supported', ['client_secret_post'])
})

/** OIDCCCheckScopesSupportedContainScopeTest: the module's scopes are all in scopes_supported (else it is skipped). */
export const OIDCCCheckScopesSupportedContainScopeTest = condition('OIDCCCheckScopesSupportedContainScopeTest', (env) => {
  const supported = server(env).scopes_supported
  const wanted = (env.need('client').scope ?? '').split(' ')
  let message: string | undefined
  if (supported === undefined) message = '\'scopes_supported\' is missing from the discovery document'
  else if (!Array.isArray(supported)) message = '\'scopes_supported\' in the discovery document is not an array'
  else if (!wanted.every((s) => supported.includes(s))) message = '\'scopes_supported\' in the discovery document doesn\'t contain the expected scopes'
  if (message !== undefined) {
    env.scopesNotSupported = true
    fail(message, { expected: wanted, actual: supported })
  }
})

export const OIDCCCheckDiscEndpointResponseTypesSupported = condition('OIDCCCheckDiscEndpointResponseTypesSupported', (env) => {
  const sameSet = (a: string, b: string) => { const x = new Set(a.split(' ')); const y = new Set(b.split(' ')); return x.size === y.size && [...x].every((v) => y.has(v)) }
  arrayHolds(env, 'response_types_supported', ['code', 'code id_token', 'id_token', 'token id_token', 'code id_token token', 'code token'], 1, 'The server must support at least one of the response types defined in OpenID Connect', sameSet)
})

export const CheckDiscEndpointDiscoveryUrl = condition('CheckDiscEndpointDiscoveryUrl', (env) => {
  let url: URL
  try {
    url = new URL(env.config.discoveryUrl)
  } catch {
    return fail('Invalid URL. Unable to parse.', { discoveryUrl: env.config.discoveryUrl })
  }
  if (!url.pathname.endsWith('/.well-known/openid-configuration')) fail('discoveryUrl is missing \'/.well-known/openid-configuration\'')
  if (url.protocol !== 'https:') fail('Expected https protocol for server.discoveryUrl', { actual: url.protocol })
})

/** CheckDiscEndpointIssuer: the issuer is where the document came from (OIDC Discovery §4.3), a trailing slash aside. */
export const CheckDiscEndpointIssuer = condition('CheckDiscEndpointIssuer', (env) => {
  const issuer = server(env).issuer
  if (!isString(issuer)) fail('issuer is missing from discovery endpoint document')
  const expected = env.config.discoveryUrl.replace(/\.well-known\/openid-configuration$/, '')
  const strip = (u: string) => u.endsWith('/') ? u.slice(0, -1) : u
  if (strip(issuer) !== strip(expected)) fail('issuer listed in the discovery document is not consistent with the location the discovery document was retrieved from', { discovery_url: expected, issuer })
})

/** CheckDiscEndpointIssuerIsValidUrl (IssuerUrlValidation, RFC 8414 §2). */
export const CheckDiscEndpointIssuerIsValidUrl = condition('CheckDiscEndpointIssuerIsValidUrl', (env) => {
  const issuer = server(env).issuer
  if (!isString(issuer)) fail('issuer is missing or not a string in the authorization server metadata')
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return fail('issuer is not a valid URI', { issuer })
  }
  const issues: string[] = []
  if (url.protocol !== 'https:') issues.push('must use the https scheme')
  if (url.hostname === '') issues.push('is missing a host component')
  if (issuer.includes('#')) issues.push('must not contain a fragment part')
  if (issuer.includes('?')) issues.push('must not contain a query part')
  if (url.username !== '' || url.password !== '') issues.push('must not contain userinfo')
  if (issues.length > 0) fail('issuer is not a valid RFC 8414 issuer identifier URL', { issuer, issues })
})

/**
 * The metadata fields the specifications define (RFC 8414 §2, OpenID Connect Discovery 1.0 §3, RP-Initiated,
 * Front- and Back-Channel Logout, Session Management, RFC 9207, RFC 9126, RFC 9101, RFC 9449, RFC 8705, RFC 8628),
 * each with its JSON type: ValidateServerMetadataAgainstSchema fails on a wrong type, and
 * CheckForUnexpectedParametersInServerMetadata warns about a field none of them defines.
 */
type FieldType = 'uri' | 'strings' | 'boolean' | 'object' | 'string'
const METADATA: Record<string, FieldType> = {
  ...Object.fromEntries(['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint', 'service_documentation', 'op_policy_uri', 'op_tos_uri',
    'revocation_endpoint', 'introspection_endpoint', 'userinfo_endpoint', 'end_session_endpoint', 'check_session_iframe', 'pushed_authorization_request_endpoint',
    'backchannel_authentication_endpoint', 'device_authorization_endpoint'].map((k) => [k, 'uri' as const])),
  ...Object.fromEntries(['scopes_supported', 'response_types_supported', 'response_modes_supported', 'grant_types_supported', 'token_endpoint_auth_methods_supported',
    'token_endpoint_auth_signing_alg_values_supported', 'ui_locales_supported', 'revocation_endpoint_auth_methods_supported', 'revocation_endpoint_auth_signing_alg_values_supported',
    'introspection_endpoint_auth_methods_supported', 'introspection_endpoint_auth_signing_alg_values_supported', 'code_challenge_methods_supported', 'subject_types_supported',
    'id_token_signing_alg_values_supported', 'id_token_encryption_alg_values_supported', 'id_token_encryption_enc_values_supported', 'userinfo_signing_alg_values_supported',
    'userinfo_encryption_alg_values_supported', 'userinfo_encryption_enc_values_supported', 'request_object_signing_alg_values_supported',
    'request_object_encryption_alg_values_supported', 'request_object_encryption_enc_values_supported', 'display_values_supported', 'claim_types_supported', 'claims_supported',
    'claims_locales_supported', 'acr_values_supported', 'dpop_signing_alg_values_supported', 'authorization_details_types_supported', 'backchannel_token_delivery_modes_supported',
    'backchannel_authentication_request_signing_alg_values_supported', 'authorization_signing_alg_values_supported', 'authorization_encryption_alg_values_supported',
    'authorization_encryption_enc_values_supported', 'prompt_values_supported'].map((k) => [k, 'strings' as const])),
  ...Object.fromEntries(['claims_parameter_supported', 'request_parameter_supported', 'request_uri_parameter_supported', 'require_request_uri_registration',
    'frontchannel_logout_supported', 'frontchannel_logout_session_supported', 'backchannel_logout_supported', 'backchannel_logout_session_supported',
    'require_pushed_authorization_requests', 'tls_client_certificate_bound_access_tokens', 'authorization_response_iss_parameter_supported', 'require_signed_request_object',
    'backchannel_user_code_parameter_supported'].map((k) => [k, 'boolean' as const])),
  mtls_endpoint_aliases: 'object',
  signed_metadata: 'string'
}

function typeOk (type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'uri':
      if (!isString(value)) return false
      try { return new URL(value).protocol !== '' } catch { return false }
    case 'strings': return Array.isArray(value) && value.every(isString)
    case 'boolean': return typeof value === 'boolean'
    case 'object': return isObject(value)
    case 'string': return isString(value)
  }
}

export const ValidateServerMetadataAgainstSchema = condition('ValidateServerMetadataAgainstSchema', (env) => {
  const wrong = Object.entries(server(env)).filter(([name, value]) => METADATA[name] !== undefined && !typeOk(METADATA[name], value)).map(([name]) => name)
  if (wrong.length > 0) fail('the OAuth Authorization Server metadata has fields of the wrong type', wrong)
})

export const CheckForUnexpectedParametersInServerMetadata = condition('CheckForUnexpectedParametersInServerMetadata', (env) => {
  const unknown = Object.keys(server(env)).filter((name) => METADATA[name] === undefined)
  if (unknown.length > 0) fail('Unknown properties were found in the OAuth Authorization Server metadata', unknown)
})

export const CheckDiscEndpointSubjectTypesSupported = condition('CheckDiscEndpointSubjectTypesSupported', (env) =>
  arrayHolds(env, 'subject_types_supported', ['public', 'pairwise'], 1, 'subject_types_supported is required to contain at least one of public or pairwise'))

/** OIDC Core §15.1: an OP MUST support RS256 for ID tokens. */
export const OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported = condition('OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported', (env) =>
  arrayHolds(env, 'id_token_signing_alg_values_supported', ['RS256'], 1, 'RS256 support is required, but the server does not list it in id_token_signing_alg_values_supported'))

export const OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported = condition('OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported', (env) =>
  arrayHolds(env, 'userinfo_signing_alg_values_supported', []))

export const CheckDiscEndpointAuthorizationEndpoint = condition('CheckDiscEndpointAuthorizationEndpoint', (env) => httpsUrl(env, 'authorization_endpoint'))
export const CheckDiscEndpointTokenEndpoint = condition('CheckDiscEndpointTokenEndpoint', (env) => httpsUrl(env, 'token_endpoint'))
export const CheckDiscEndpointUserinfoEndpoint = condition('CheckDiscEndpointUserinfoEndpoint', (env) => httpsUrl(env, 'userinfo_endpoint'))
export const CheckDiscEndpointRegistrationEndpoint = condition('CheckDiscEndpointRegistrationEndpoint', (env) => httpsUrl(env, 'registration_endpoint'))
export const CheckJwksUri = condition('CheckJwksUri', (env) => httpsUrl(env, 'jwks_uri'))
export const CheckDiscEndSessionEndpoint = condition('CheckDiscEndSessionEndpoint', (env) => httpsUrl(env, 'end_session_endpoint'))

/** Every `…_endpoint` of the document is https (the suite's VerifyOPEndpointsUseHTTPS). */
export const CheckDiscEndpointAllEndpointsAreHttps = condition('CheckDiscEndpointAllEndpointsAreHttps', (env) => {
  for (const key of Object.keys(server(env))) if (key.endsWith('_endpoint')) httpsUrl(env, key)
})

export const CheckDiscEndpointRequestParameterSupported = condition('CheckDiscEndpointRequestParameterSupported', (env) => booleanIs(env, 'request_parameter_supported', false, true))
export const CheckDiscEndpointRequestUriParameterSupported = condition('CheckDiscEndpointRequestUriParameterSupported', (env) => booleanIs(env, 'request_uri_parameter_supported', true, true))
export const CheckDiscEndpointClaimsParameterSupported = condition('CheckDiscEndpointClaimsParameterSupported', (env) => booleanIs(env, 'claims_parameter_supported', false, true))
export const CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256 = condition('CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256', (env) =>
  arrayHolds(env, 'request_object_signing_alg_values_supported', ['RS256']))
export const OIDCCCheckDiscEndpointClaimsSupported = condition('OIDCCCheckDiscEndpointClaimsSupported', (env) => arrayHolds(env, 'claims_supported', []))

export const OIDCCCheckDiscEndpointGrantTypesSupported = condition('OIDCCCheckDiscEndpointGrantTypesSupported', (env) => {
  const value = server(env).grant_types_supported
  if (value === undefined) return
  if (!Array.isArray(value)) fail('grant_types_supported in discovery document, if present, must be an array')
  if (value.length === 0) fail('grant_types_supported in discovery document must not be an empty array')
})

export const CheckDiscEndpointScopesSupportedContainsOpenId = condition('CheckDiscEndpointScopesSupportedContainsOpenId', (env) =>
  arrayHolds(env, 'scopes_supported', ['openid'], 1, 'scopes_supported in the server\'s discovery document does not contain \'openid\''))

/** RFC 6749 Appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
export const CheckDiscEndpointScopesSupportedSyntax = condition('CheckDiscEndpointScopesSupportedSyntax', (env) => {
  const scopes = server(env).scopes_supported
  if (scopes === undefined) return
  if (!Array.isArray(scopes)) fail('scopes_supported is not a JSON array')
  const bad = scopes.filter((s) => !isString(s) || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))
  if (bad.length > 0) fail('Invalid scope syntax in authorization server scopes_supported', bad)
})

/** BCP 47 (RFC 5646 §2.1) language tags: the shape of each subtag (the suite also checks them against the IANA registry). */
const LANGUAGE_TAG = /^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z\d]{2,8})+)*(?:-[Xx](?:-[A-Za-z\d]{1,8})+)?$/
const localesOf = (env: Env) => ['ui_locales_supported', 'claims_locales_supported'].map((name) => [name, server(env)[name]] as const).filter(([, v]) => v !== undefined)

export const CheckDiscEndpointLocalesSyntax = condition('CheckDiscEndpointLocalesSyntax', (env) => {
  for (const [name, values] of localesOf(env)) {
    if (!Array.isArray(values)) fail(`${name}: expected JSON array`)
    const bad = values.filter((v) => !isString(v) || !LANGUAGE_TAG.test(v))
    if (bad.length > 0) fail(`Invalid BCP47 language tag(s) in ${name}`, bad)
  }
})

export const CheckDiscEndpointLocalesCanonicalCasing = condition('CheckDiscEndpointLocalesCanonicalCasing', (env) => {
  const canonical = (tag: string) => tag.split('-').map((part, i) => i === 0 ? part.toLowerCase() : part.length === 4 && /^[A-Za-z]+$/.test(part) ? part[0]?.toUpperCase() + part.slice(1).toLowerCase() : part.length === 2 ? part.toUpperCase() : part.toLowerCase()).join('-')
  for (const [name, values] of localesOf(env)) {
    if (!Array.isArray(values)) continue
    const bad = values.filter((v) => isString(v) && canonical(v) !== v)
    if (bad.length > 0) fail(`locale tags in ${name} deviate from BCP47 canonical casing`, bad)
  }
})

export const EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray = condition('EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray', (env) => {
  const value = server(env).code_challenge_methods_supported
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return
  arrayHolds(env, 'code_challenge_methods_supported', ['S256', 'plain'], 1, 'No matching value from server')
})

/** Whether the server metadata has a field (the suite's `skipIfElementMissing("server", …)`). */
export const serverHas = (env: Env, path: string): boolean => at(env.server, path) !== undefined

import { createHash } from 'node:crypto'
import { compactVerify, importJWK, type JWK } from 'jose'
import { at, condition, fail, isObject, isString, type Env, type Jwt } from '../env.js'
import { hashAlgorithmFor, objectValid, SCOPE_STANDARD_CLAIMS, STANDARD_CLAIMS, updatedAtValid } from './shared.js'

/** The ID token checks (PerformStandardIdTokenChecks and the modules' own), on `env.idToken` unless said otherwise. */

const idToken = (env: Env) => env.need('idToken')
const claims = (env: Env) => idToken(env).claims
const SKEW = 5 * 60

/** ValidateIdToken: iss, aud, exp, iat, auth_time, acr and nbf, with the suite's five minutes of skew. */
export const ValidateIdToken = condition('ValidateIdToken', (env) => {
  const clientId = env.need('client').client_id
  const issuer = env.need('server').issuer
  const now = env.now()
  const c = claims(env)
  if (c.iss === undefined) fail('\'iss\' claim missing')
  if (c.iss !== issuer) fail('Issuer mismatch', { expected: issuer, actual: c.iss })
  if (c.aud === undefined) fail('\'aud\' claim missing')
  if (Array.isArray(c.aud) ? !c.aud.includes(clientId) : c.aud !== clientId) fail('\'aud\' is not our client id', { expected: clientId, actual: c.aud })
  if (c.exp === undefined) fail('\'exp\' claim missing')
  if (typeof c.exp !== 'number') fail('\'exp\' is not a number', { exp: c.exp })
  if (now - SKEW > c.exp) fail('Token expired', { exp: c.exp, now })
  if (c.exp > now + 50 * 365 * 86400) fail('\'exp\' is unreasonably far in the future (more than 50 years)', { exp: c.exp })
  if (c.iat === undefined) fail('\'iat\' claim missing')
  if (typeof c.iat !== 'number') fail('\'iat\' is not a number', { iat: c.iat })
  if (now + SKEW < c.iat) fail('Token \'iat\' in the future', { iat: c.iat, now })
  if (now - SKEW > c.iat) fail('Token \'iat\' more than 5 minutes in the past', { iat: c.iat, now })
  if (c.auth_time !== undefined) {
    if (typeof c.auth_time !== 'number') fail('auth_time is not a number', { auth_time: c.auth_time })
    if (now - 365 * 86400 > c.auth_time) fail('id_token auth_time is over a year in the past', { auth_time: c.auth_time })
    if (now + SKEW < c.auth_time) fail('id_token auth_time is in the future', { auth_time: c.auth_time, now })
  }
  if (c.acr === '') fail('id_token acr is an empty string')
})

/** ValidateIdTokenStandardClaims: the identity claims (all but the token's own) have their OIDC Core §5.1 types. */
const NON_IDENTITY = ['iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'c_hash', 'at_hash', 's_hash', 'jti', 'nbf', 'verified_claims']
export const ValidateIdTokenStandardClaims = condition('ValidateIdTokenStandardClaims', (env) => {
  const identity = Object.fromEntries(Object.entries(claims(env)).filter(([name]) => !NON_IDENTITY.includes(name)))
  const wrong = objectValid(identity, STANDARD_CLAIMS)
  if (wrong.length > 0) fail('id_token claims are not valid', wrong)
})

export const ValidateIdTokenNonce = condition('ValidateIdTokenNonce', (env) => {
  const actual = claims(env).nonce
  const expected = env.nonce
  if (actual === undefined && expected === undefined) return
  if (expected === undefined) fail('the id_token has a nonce, but none was sent', { actual })
  if (actual !== expected) fail('Nonce values mismatch', { actual, expected })
})

/** ValidateIdTokenACRClaimAgainstRequest: acr is a string; one requested as an essential claim comes back. */
export const ValidateIdTokenACRClaimAgainstRequest = condition('ValidateIdTokenACRClaimAgainstRequest', (env) => {
  const acr = claims(env).acr
  if (acr !== undefined && !isString(acr)) fail('acr value in id_token must be a string', { acr })
  const request = env.need('authorizationEndpointRequest')
  const values = at(request.claims, 'id_token.acr.values')
  const value = at(request.claims, 'id_token.acr.value')
  const requested = Array.isArray(values) ? values.map(String) : value !== undefined ? [String(value)] : []
  if (requested.length === 0) return
  if (acr === undefined) fail('an acr value was requested as an essential claim, so the acr used MUST be returned in the id_token', { expected: requested })
  if (!requested.includes(String(acr))) fail('acr value in id_token is not (one of the) requested values', { requested, actual: acr })
})

/** What key type signs with an algorithm (nimbus KeyType.forAlgorithm). */
const keyTypeOf = (alg: string): string | undefined =>
  /^(RS|PS)\d+$/.test(alg) ? 'RSA' : /^ES\d+K?$/.test(alg) ? 'EC' : /^HS\d+$/.test(alg) ? 'oct' : /^(EdDSA|Ed25519)$/.test(alg) ? 'OKP' : undefined

async function verifies (token: string, key: Record<string, unknown>, alg: string): Promise<boolean> {
  try {
    await compactVerify(token, await importJWK(key as JWK, alg), { algorithms: [alg] })
    return true
  } catch {
    return false
  }
}

/** AbstractVerifyJwsSignature: the key is picked by kid (and kty, alg, use when set) and must verify the signature. */
export async function verifyJwsSignature (jwt: Jwt, jwks: Record<string, unknown>, what: string): Promise<void> {
  const alg = jwt.header.alg
  if (!isString(alg) || alg === 'none') return fail(`Error validating ${what} signature: it is not signed`, { alg })
  const kty = keyTypeOf(alg)
  if (kty === undefined) return fail(`Error validating ${what} signature: unknown algorithm`, { alg })
  const keys = (Array.isArray(jwks.keys) ? jwks.keys : []).filter(isObject)
  const kid = jwt.header.kid
  if (keys.filter((k) => isString(kid) && k.kid === kid && k.alg === alg && k.use === 'sig' && k.kty === kty).length > 1) {
    fail('Found more than one key in the server JWKS that has the right kid, kty, alg and \'use\':\'sig\'', { kid })
  }
  const selectable = (k: Record<string, unknown>) => k.kty === kty && (k.alg === undefined || k.alg === alg) && (k.use === undefined || k.use === 'sig')
  if (isString(kid) && kid !== '') {
    const key = keys.find((k) => k.kid === kid && selectable(k))
    if (key === undefined) fail('server JWKS does not contain a key with the correct kid, kty that also matches (or does not have) alg/\'use\':\'sig\'', { kid, alg })
    if (!await verifies(jwt.value, key, alg)) fail(`Unable to verify ${what} signature based on the server key with the correct kid`, { kid, alg })
    return
  }
  const candidates = keys.filter(selectable)
  if (candidates.length === 0) fail('server JWKS does not contain a key with the correct kty that also matches (or does not have) alg/\'use\':\'sig\'', { alg })
  for (const key of candidates) if (await verifies(jwt.value, key, alg)) return
  fail(`Unable to verify ${what} signature based on the server keys`)
}

export const EnsureIdTokenContainsKid = condition('EnsureIdTokenContainsKid', (env) => {
  if (!isString(idToken(env).header.kid) || idToken(env).header.kid === '') fail('kid was not found in the ID token header')
})

/** OIDC Core §3.1.3.7: with no algorithm registered for the client, its ID tokens are RS256. */
export const EnsureIdTokenSignatureIsRS256 = condition('EnsureIdTokenSignatureIsRS256', (env) => {
  const alg = idToken(env).header.alg
  if (!isString(alg) || alg === '') fail('alg not present in ID token header')
  if (alg !== 'RS256') fail('ID token signature algorithm is not "RS256"', { alg })
})

export const ValidateIdTokenSignature = condition('ValidateIdTokenSignature', (env) => verifyJwsSignature(idToken(env), env.need('serverJwks'), 'id_token'))

/** OIDC Core §2: sub is at most 255 ASCII characters, printable. */
export const CheckForSubjectInIdToken = condition('CheckForSubjectInIdToken', (env) => {
  const sub = claims(env).sub
  if (!isString(sub) || sub === '') fail('id_token does not contain \'sub\'')
  if (sub.length > 255) fail('id_token \'sub\' exceeds 255 ASCII characters', { sub })
  if (!/^[\x20-\x7E]*$/.test(sub)) fail('id_token \'sub\' contains a non-printable or non-ASCII character', { sub })
})

export const EnsureIdTokenUpdatedAtValid = condition('EnsureIdTokenUpdatedAtValid', (env) => updatedAtValid(claims(env), 'id_token', env.now()))

const hashCondition = (name: string, claim: 'at_hash' | 'c_hash', hashed: (env: Env) => string | undefined) => condition(name, (env) => {
  const hash = claims(env)[claim]
  const alg = idToken(env).header.alg
  if (!isString(hash) || hash === '') fail(`Couldn't find ${claim} in ID token`)
  if (!isString(alg) || alg === '') fail('Couldn\'t find algorithm in ID token header')
  const value = hashed(env)
  if (value === undefined) fail(`Couldn't find the value ${claim} is the hash of`)
  const digest = createHash(hashAlgorithmFor(alg)).update(value, 'ascii').digest()
  const expected = digest.subarray(0, digest.length / 2).toString('base64url')
  if (hash !== expected) fail(`Invalid ${claim} in token`, { expected_hash: expected, id_token_hash: hash })
})

/** ExtractAtHash/ValidateAtHash and ExtractCHash/ValidateCHash (OIDC Core §3.1.3.6, §3.3.2.11). */
export const ValidateAtHash = hashCondition('ValidateAtHash', 'at_hash', (env) => env.accessToken?.value)
export const ValidateCHash = hashCondition('ValidateCHash', 'c_hash', (env) => env.authorizationEndpointResponse?.code)
export const ExtractAtHash = condition('ExtractAtHash', (env) => { if (!isString(claims(env).at_hash)) fail('Couldn\'t find at_hash in ID token') })
export const ExtractCHash = condition('ExtractCHash', (env) => { if (!isString(claims(env).c_hash)) fail('Couldn\'t find c_hash in ID token') })
export const idTokenHas = (env: Env, claim: string): boolean => env.idToken?.claims[claim] !== undefined

export const EnsureIdTokenDoesNotContainName = condition('EnsureIdTokenDoesNotContainName', (env) => {
  if (claims(env).name !== undefined) fail('Unexpectedly found name in id_token: the suite did not ask for it there', { name: claims(env).name })
})

export const EnsureIdTokenContainsName = condition('EnsureIdTokenContainsName', (env) => {
  if (!isString(claims(env).name) || claims(env).name === '') fail('name not found in id_token')
})

export const EnsureIdTokenDoesNotContainEmailForScopeEmail = condition('EnsureIdTokenDoesNotContainEmailForScopeEmail', (env) => {
  if (claims(env).email !== undefined) fail('Unexpectedly found email in id_token: scope=email asks for it at the userinfo endpoint', { email: claims(env).email })
})

/** EnsureIdTokenDoesNotContainNonRequestedClaims: the token's own claims, and those of the scopes asked for. */
export const EnsureIdTokenDoesNotContainNonRequestedClaims = condition('EnsureIdTokenDoesNotContainNonRequestedClaims', (env) => {
  const allowed = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 'nbf', 'jti', 'sid', 's_hash', 'openbanking_intent_id', 'txn'])
  const scope = env.need('authorizationEndpointRequest').scope
  const scopes = isString(scope) ? scope.split(' ') : []
  if (scopes.includes('openid')) for (const s of scopes) for (const c of SCOPE_STANDARD_CLAIMS[s] ?? []) allowed.add(c)
  const extra = Object.keys(claims(env)).filter((name) => !allowed.has(name))
  if (extra.length > 0) fail('id_token contains non-requested claims', extra)
})

export const CheckIdTokenAuthTimeClaimPresentDueToMaxAge = condition('CheckIdTokenAuthTimeClaimPresentDueToMaxAge', (env) => {
  if (claims(env).auth_time === undefined) fail('auth_time claim is missing from the id_token, but it is required for an authentication where the max_age parameter was used')
})

const authTimes = (env: Env) => [env.need('firstIdToken').claims.auth_time, claims(env).auth_time] as const

export const CheckSecondIdTokenAuthTimeIsLaterIfPresent = condition('CheckSecondIdTokenAuthTimeIsLaterIfPresent', (env) => {
  const [first, second] = authTimes(env)
  if (typeof first !== 'number' || typeof second !== 'number') return
  if (first === second) fail('the id_token from the second authorization has the same auth_time as the first one, though the user had to authenticate again', { first, second })
  if (first > second) fail('the id_token from the second authorization has an earlier auth_time than the first one', { first, second })
})

export const CheckIdTokenAuthTimeIsRecentIfPresent = condition('CheckIdTokenAuthTimeIsRecentIfPresent', (env) => {
  const authTime = claims(env).auth_time
  if (typeof authTime === 'number' && env.now() - SKEW - 1 > authTime) fail('id_token auth_time is older than 1 second (allowing 5 minutes of skew)', { auth_time: authTime, now: env.now() })
})

export const CheckIdTokenAuthTimeClaimsSameIfPresent = condition('CheckIdTokenAuthTimeClaimsSameIfPresent', (env) => {
  const [first, second] = authTimes(env)
  if (first !== undefined && second !== undefined && first !== second) fail('The id_tokens contain different auth_time claims, but must contain the same auth_time', { first, second })
})

export const CheckIdTokenSubConsistentForSecondAuthorization = condition('CheckIdTokenSubConsistentForSecondAuthorization', (env) => {
  if (env.need('firstIdToken').claims.sub !== claims(env).sub) fail('The id_tokens from the first and second authorization contain different sub claims', { first: env.need('firstIdToken').claims.sub, second: claims(env).sub })
})

export const ValidateIdTokenACRClaimAgainstAcrValuesRequest = condition('ValidateIdTokenACRClaimAgainstAcrValuesRequest', (env) => {
  const requested = env.need('authorizationEndpointRequest').acr_values
  if (requested === undefined) fail('authorization endpoint request did not contain acr_values; this is a problem with the conformance suite')
  const acr = claims(env).acr
  if (acr === undefined) fail('An acr value was requested using acr_values, so the server \'SHOULD\' return an acr claim, but it did not')
  if (!isString(acr)) fail('acr value in id_token must be a string', { acr })
  if (!String(requested).split(' ').includes(acr)) fail('acr value in id_token is not (one of the) requested values', { requested, actual: acr })
})

/** CompareIdTokenClaims (OIDC Core §12.2): a refreshed ID token keeps iss, sub, aud, auth_time and azp, with a new iat. */
export const CompareIdTokenClaims = condition('CompareIdTokenClaims', (env) => {
  const first = env.need('firstIdToken').claims
  const second = env.need('secondIdToken').claims
  for (const name of ['iss', 'sub']) {
    if (first[name] === undefined) fail(`Initial id token does not contain a ${name} claim`)
    if (second[name] === undefined) fail(`Second id token does not contain a ${name} claim`)
    if (first[name] !== second[name]) fail('Claim values are not the same', { claim: name, first: first[name], second: second[name] })
  }
  if (first.iat === undefined) fail('Initial id token does not contain an iat claim')
  if (second.iat === undefined) fail('Second id token does not contain an iat claim')
  if (first.iat === second.iat) fail('iat for the second id token MUST represent the time that the new ID Token is issued, and cannot be the same as the initial id token', { iat: first.iat })
  if (first.aud === undefined) fail('Initial id token does not contain an aud claim')
  if (second.aud === undefined) fail('Second id token does not contain an aud claim')
  const audiences = (aud: unknown) => JSON.stringify([...new Set(Array.isArray(aud) ? aud.map(String) : [String(aud)])].sort())
  if (audiences(first.aud) !== audiences(second.aud)) fail('aud Claim Value MUST be the same as in the ID Token issued when the original authentication occurred', { first: first.aud, second: second.aud })
  if (second.auth_time !== undefined && second.auth_time !== first.auth_time) fail('auth_time claims are not the same', { first: first.auth_time, second: second.auth_time })
  if (first.azp === undefined && second.azp !== undefined) fail('Second id token cannot contain an azp claim because the initial id token does not have an azp claim')
  if (first.azp !== second.azp) fail('azp claims are not the same', { first: first.azp, second: second.azp })
})

import { SignJWT } from 'jose'
import { condition, fail, type Env } from '../env.js'
import { randomVsChars } from './shared.js'

/** OpenID Connect RP-Initiated Logout 1.0 as the suite's logout modules drive it. */

const endSession = (env: Env) => env.need('endSessionRequest')

export const CreatePostLogoutRedirectUri = condition('CreatePostLogoutRedirectUri', (env) => { env.postLogoutRedirectUri = `${env.baseUrl}/post_logout_redirect` })

/** CreateRandomEndSessionState: letters, digits and printable punctuation (`+`, space and `;` made `~`): the OP must return it exactly. */
export const CreateRandomEndSessionState = condition('CreateRandomEndSessionState', (env) => {
  env.endSessionState = randomVsChars(50, 10, 30).replace(/[+ ;]/g, '~')
})

export const CreateEndSessionEndpointRequest = condition('CreateEndSessionEndpointRequest', (env) => {
  env.endSessionRequest = { id_token_hint: env.need('idToken').value, post_logout_redirect_uri: env.need('postLogoutRedirectUri'), state: env.need('endSessionState') }
})

export const BuildRedirectToEndSessionEndpoint = condition('BuildRedirectToEndSessionEndpoint', (env) => {
  const endpoint = env.need('server').end_session_endpoint
  if (typeof endpoint !== 'string' || endpoint === '') fail('Couldn\'t find end_session endpoint')
  const url = new URL(endpoint)
  for (const [name, value] of Object.entries(endSession(env))) url.searchParams.append(name, value)
  env.redirectToEndSessionEndpoint = url.href
})

export const AddBadPostLogoutRedirectUriToEndSessionEndpointRequest = condition('AddBadPostLogoutRedirectUriToEndSessionEndpointRequest', (env) => {
  endSession(env).post_logout_redirect_uri = `${env.baseUrl}/bad_post_logout_redirect_uri`
})

export const AddPostLogoutRedirectUriWithQueryAddedToEndSessionEndpointRequest = condition('AddPostLogoutRedirectUriWithQueryAddedToEndSessionEndpointRequest', (env) => {
  endSession(env).post_logout_redirect_uri = `${endSession(env).post_logout_redirect_uri ?? ''}?foo=bar`
})

const removing = (name: string, parameter: string) => condition(name, (env) => { delete endSession(env)[parameter] })
export const RemoveIdTokenHintFromEndSessionEndpointRequest = removing('RemoveIdTokenHintFromEndSessionEndpointRequest', 'id_token_hint')
export const RemovePostLogoutRedirectUriFromEndSessionEndpointRequest = removing('RemovePostLogoutRedirectUriFromEndSessionEndpointRequest', 'post_logout_redirect_uri')
export const RemoveStateFromEndSessionEndpointRequest = removing('RemoveStateFromEndSessionEndpointRequest', 'state')
export const RemoveAllParametersFromEndSessionEndpointRequest = condition('RemoveAllParametersFromEndSessionEndpointRequest', (env) => { env.endSessionRequest = {} })

/** ChangeIdTokenToAlgNone: the ID token's claims under {"alg": "none"}, no signature. */
export const ChangeIdTokenToAlgNone = condition('ChangeIdTokenToAlgNone', (env) => {
  const [, payload] = env.need('idToken').value.split('.')
  env.need('idToken').value = `${Buffer.from('{"alg": "none"}').toString('base64url')}.${payload ?? ''}.`
})

/** GenerateJWKsFromClientSecret: an HS256 key of the client secret (it needs at least 32 bytes). */
export const GenerateJWKsFromClientSecret = condition('GenerateJWKsFromClientSecret', (env) => {
  const secret = Buffer.from(env.need('client').client_secret)
  if (secret.length < 32) fail('The client secret is too short to sign a JWT with: HS256 requires at least 32 bytes', { bytes: secret.length })
  env.clientJwks = { kty: 'oct', k: secret.toString('base64url'), alg: 'HS256', use: 'sig' }
})

/** GenerateFakeIdTokenClaims: an ID token the suite makes up (iss is the client, aud the issuer). */
export const GenerateFakeIdTokenClaims = condition('GenerateFakeIdTokenClaims', (env) => {
  const now = env.now()
  env.fakeIdTokenClaims = { iss: env.need('client').client_id, sub: 'SubjectID', aud: env.need('server').issuer, nonce: 'flibble', iat: now, exp: now + 300 }
})

export const SignFakeIdToken = condition('SignFakeIdToken', async (env) => {
  const key = env.need('clientJwks')
  const value = await new SignJWT(env.need('fakeIdTokenClaims')).setProtectedHeader({ alg: key.alg }).sign(Buffer.from(key.k, 'base64url'))
  env.need('idToken').value = value
})

// The post-logout redirect.

const redirect = (env: Env) => env.need('postLogoutRedirect')

export const CheckPostLogoutState = condition('CheckPostLogoutState', (env) => {
  const state = redirect(env).query.state
  if (state === undefined) fail('state not present in query params passed to post logout redirect uri')
  if (state !== env.need('endSessionState')) fail('state in query params passed to post logout redirect uri does not match state passed in the end_session request', { expected: env.endSessionState, actual: state })
})

export const CheckNoPostLogoutState = condition('CheckNoPostLogoutState', (env) => {
  if (redirect(env).query.state !== undefined) fail('state present in query params passed to post logout redirect uri, but no state was passed to request')
})

export const CheckForUnexpectedParametersInPostLogoutRedirect = condition('CheckForUnexpectedParametersInPostLogoutRedirect', (env) => {
  const unexpected = Object.keys(redirect(env).query).filter((name) => name !== 'state')
  if (unexpected.length > 0) fail('post_logout_redirect includes unexpected parameters in url query', unexpected)
})

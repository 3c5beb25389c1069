import { Type } from '@sinclair/typebox'
import { clientAssertionParams, ref } from './common.js'
import { AuthorizeParameters } from './browser.js'
import { clientAuthentication, oauthErrors } from './token.js'

const { request_uri: _requestUri, ...authorizationParameters } = AuthorizeParameters.properties

/**
 * POST /par (RFC 9126 §2.1): an authorization request, form-encoded, with the client's authentication as at /token.
 * Its parameters are read by lib/oauth/authorize.ts as /authorize reads them (unknown ones kept and ignored).
 */
export const PushedAuthorizationRequest = Type.Object({
  ...authorizationParameters,
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'client_secret_post; or authenticate with HTTP Basic, or send client_id alone (a public client)' })),
  ...clientAssertionParams,
  request_uri: Type.Optional(Type.String({ description: 'never pushed: invalid_request (§2.1)' }))
}, { additionalProperties: true, examples: [{ client_id: 'web', response_type: 'code', redirect_uri: 'https://app.example/cb', scope: 'openid profile', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'af0ifjsldkj' }] })

export const PushedAuthorizationResponse = Type.Object({
  request_uri: Type.String({ pattern: '^urn:ietf:params:oauth:request_uri:', description: 'for /authorize?client_id=…&request_uri=…: single use' }),
  expires_in: Type.Integer({ description: 'seconds it waits to be used at /authorize (60)' })
}, {
  $id: 'PushedAuthorizationResponse',
  description: 'RFC 9126 §2.2',
  examples: [{ request_uri: 'urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c', expires_in: 60 }]
})

export const pushedAuthorizationSchema = {
  operationId: 'pushAuthorizationRequest',
  tags: ['oauth'],
  summary: 'Pushed authorization request endpoint (RFC 9126)',
  description: 'The parameters of an authorization request, checked now as /authorize checks them (errors as JSON, before any browser ' +
    'is involved: invalid_request, invalid_scope, unsupported_response_type, invalid_redirect_uri, invalid_target, unauthorized_client), ' +
    'with the client authenticated as at /token (public clients send `client_id`). Answers a `request_uri` to open ' +
    '`/authorize?client_id=…&request_uri=…` with within 60 s; it is good for one sign-in (docs/par.md). At most 60 pushes a minute ' +
    'per client address and 600 per client (429 beyond). A signed request object (`request`, RFC 9101) is verified here and its parameters ' +
    'are what is pushed (invalid_request_object otherwise). A DPoP proof (RFC 9449 §10.1, htu this endpoint) binds the code to its key, as `dpop_jkt` does.',
  consumes: ['application/x-www-form-urlencoded'],
  security: clientAuthentication,
  headers: Type.Object({
    dpop: Type.Optional(Type.String({ description: 'RFC 9449 §10.1: a DPoP proof JWT (htm POST, htu this endpoint): the code is bound to its key' }))
  }),
  body: PushedAuthorizationRequest,
  response: { 201: ref(PushedAuthorizationResponse, 'the request_uri; Cache-Control: no-store'), ...oauthErrors }
}

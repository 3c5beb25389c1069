import { Type } from '@sinclair/typebox'
import { ClientId, ref, Scope, clientAssertionParams } from './common.js'
import { clientAuthentication, oauthErrors } from './token.js'

/** POST /device_authorization (RFC 8628 §3.1): form-encoded, the client authenticated as at /token. */
export const DeviceAuthorizationRequest = Type.Object({
  client_id: Type.Optional(ClientId),
  client_secret: Type.Optional(Type.String({ maxLength: 512 })),
  ...clientAssertionParams,
  scope: Type.Optional(Scope),
  resource: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 10 })], {
    description: 'RFC 8707: the URI of a registered resource (an API, an MCP server) the tokens are for; may repeat. An unknown one is ' +
      'invalid_target. Scopes that resource defines may then be asked for; the consent page names it, and /token picks one with `resource`'
  }))
}, { additionalProperties: true, examples: [{ client_id: 'tv', scope: 'openid profile items:read' }] })

export const DeviceAuthorizationResponse = Type.Object({
  device_code: Type.String({ description: 'for the device only: it polls /token with it' }),
  user_code: Type.String({ pattern: '^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$', description: 'what the person types on the verification page' }),
  verification_uri: Type.String(),
  verification_uri_complete: Type.String({ description: 'the page with the user code filled in (still confirmed with a button)' }),
  expires_in: Type.Integer(),
  interval: Type.Integer({ description: 'seconds to wait between polls' })
}, {
  $id: 'DeviceAuthorizationResponse',
  description: 'RFC 8628 §3.2',
  examples: [{
    device_code: 'GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS',
    user_code: 'WDJB-MJHT',
    verification_uri: 'https://id.example.com/device',
    verification_uri_complete: 'https://id.example.com/device?user_code=WDJB-MJHT',
    expires_in: 600,
    interval: 5
  }]
})

export const deviceAuthorizationSchema = {
  operationId: 'startDeviceAuthorization',
  tags: ['oauth'],
  summary: 'Device authorization endpoint (RFC 8628 §3.1)',
  description: 'For clients allowed the `urn:ietf:params:oauth:grant-type:device_code` grant (else `unauthorized_client`). ' +
    'Public clients send `client_id`; confidential ones authenticate as at /token. Answers a device code to poll /token with and a user ' +
    'code for the person to enter at `verification_uri`. At most 60 requests a minute per client address (429 beyond).',
  consumes: ['application/x-www-form-urlencoded'],
  security: clientAuthentication,
  body: DeviceAuthorizationRequest,
  response: { 200: ref(DeviceAuthorizationResponse, 'the codes; Cache-Control: no-store'), ...oauthErrors }
}

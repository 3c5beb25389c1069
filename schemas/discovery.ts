import { Type } from '@sinclair/typebox'

/** A public signing key (RFC 7517): EC P-256 (`crv`, `x`, `y`) for ES256, RSA (`n`, `e`) for RS256. */
export const Jwk = Type.Object({
  kty: Type.String({ description: '`EC` or `RSA`' }),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String()),
  kid: Type.String(),
  alg: Type.String({ description: 'the one algorithm this key verifies: `ES256` or `RS256`' }),
  use: Type.Literal('sig')
})

export const Jwks = Type.Object({ keys: Type.Array(Jwk) }, { $id: 'JWKS', description: 'RFC 7517 JWK Set (public keys only)' })

/** RFC 8414 authorization server metadata (also served as OpenID Connect discovery). */
export const ServerMetadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  device_authorization_endpoint: Type.String(),
  pushed_authorization_request_endpoint: Type.Optional(Type.String({ description: 'RFC 9126 POST /par' })),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean({ description: 'RFC 9126 §5: every client must push its authorization requests (REQUIRE_PAR)' })),
  jwks_uri: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  scopes_supported: Type.Optional(Type.Array(Type.String())),
  revocation_endpoint: Type.Optional(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Optional(Type.Array(Type.String())),
  introspection_endpoint: Type.Optional(Type.String()),
  registration_endpoint: Type.Optional(Type.String({ description: 'RFC 7591 POST /register, when REGISTRATION is not off' })),
  client_id_metadata_document_supported: Type.Optional(Type.Boolean({ description: 'an https client_id URL is a Client ID Metadata Document, when CLIENT_ID_METADATA_DOCUMENTS is on' })),
  introspection_endpoint_auth_methods_supported: Type.Optional(Type.Array(Type.String())),
  userinfo_endpoint: Type.Optional(Type.String()),
  end_session_endpoint: Type.Optional(Type.String()),
  backchannel_logout_supported: Type.Optional(Type.Boolean()),
  backchannel_logout_session_supported: Type.Optional(Type.Boolean()),
  frontchannel_logout_supported: Type.Optional(Type.Boolean()),
  response_modes_supported: Type.Optional(Type.Array(Type.String())),
  authorization_response_iss_parameter_supported: Type.Optional(Type.Boolean()),
  claims_supported: Type.Optional(Type.Array(Type.String())),
  acr_values_supported: Type.Optional(Type.Array(Type.String())),
  prompt_values_supported: Type.Optional(Type.Array(Type.String())),
  request_parameter_supported: Type.Optional(Type.Boolean()),
  request_uri_parameter_supported: Type.Optional(Type.Boolean()),
  request_object_signing_alg_values_supported: Type.Optional(Type.Array(Type.String({ description: 'RFC 9101 request objects: the algorithms accepted (asymmetric only)' }))),
  token_endpoint_auth_signing_alg_values_supported: Type.Optional(Type.Array(Type.String({ description: 'private_key_jwt (RFC 7523): the algorithms a client assertion may be signed with' }))),
  revocation_endpoint_auth_signing_alg_values_supported: Type.Optional(Type.Array(Type.String())),
  introspection_endpoint_auth_signing_alg_values_supported: Type.Optional(Type.Array(Type.String())),
  display_values_supported: Type.Optional(Type.Array(Type.String())),
  authorization_endpoint: Type.Optional(Type.String()),
  code_challenge_methods_supported: Type.Optional(Type.Array(Type.String())),
  dpop_signing_alg_values_supported: Type.Optional(Type.Array(Type.String(), { description: 'RFC 9449 §5.1: the algorithms a DPoP proof may be signed with' })),
  subject_types_supported: Type.Optional(Type.Array(Type.String())),
  id_token_signing_alg_values_supported: Type.Optional(Type.Array(Type.String())),
  userinfo_signing_alg_values_supported: Type.Optional(Type.Array(Type.String())),
  service_documentation: Type.Optional(Type.String())
}, { $id: 'ServerMetadata' })

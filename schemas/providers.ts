import { Type } from '@sinclair/typebox'
import { NullableString, PROVIDER_NAME_PATTERN } from './common.js'

/** Upstream providers (issue 14): the admin API's bodies and views. The client secret goes in, never out. */

const ProviderName = Type.String({ pattern: PROVIDER_NAME_PATTERN, description: 'lowercase letters, digits, _ and -; 1-32 characters; in the URLs /login/{name}' })
const Url = (description: string) => Type.String({ minLength: 1, maxLength: 2048, description })
const ClaimName = Type.String({ maxLength: 100 })

const ClaimsInput = Type.Object({
  subject: Type.Optional(ClaimName),
  email: Type.Optional(ClaimName),
  email_verified: Type.Optional(ClaimName),
  name: Type.Optional(ClaimName),
  username: Type.Optional(ClaimName)
}, { additionalProperties: false, description: 'which claims carry what (plain OAuth 2.0 providers; "" = none). Defaults sub, email, email_verified (OpenID only), name, preferred_username' })

const providerFields = {
  issuer: Url('the provider\'s issuer (OpenID: its discovery document is ISSUER/.well-known/openid-configuration); https, or http for loopback hosts only'),
  client_id: Type.String({ minLength: 1, maxLength: 256 }),
  client_secret: Type.String({ minLength: 1, maxLength: 2048, description: 'stored to call the provider; never shown again' }),
  scope: Type.String({ maxLength: 1024, description: 'what is asked of the provider (default "openid email profile"; plain OAuth: none)' }),
  display_name: Type.String({ minLength: 1, maxLength: 100, description: 'the login page\'s button says "Continue with {display_name}" (default the name)' }),
  link_by_email: Type.Boolean({ description: 'a first sign-in whose e-mail the provider marks verified links to the local user with that e-mail, when that user has no identity at any provider yet' }),
  link_linked_accounts: Type.Boolean({ description: 'with link_by_email: also link into a local user already linked to another provider account (default false)' }),
  create_users: Type.Boolean({ description: 'a first sign-in of an unknown account creates a local user (default true); false refuses it' }),
  authorization_endpoint: Url('plain OAuth 2.0 providers (no discovery): the authorization endpoint'),
  token_endpoint: Url('plain OAuth 2.0: the token endpoint'),
  userinfo_endpoint: Url('plain OAuth 2.0: where the account\'s claims are read (JSON)'),
  claims: ClaimsInput,
  check_discovery: Type.Boolean({
    description: 'read the provider\'s discovery document now, before anything is stored (default false: at the first sign-in); ' +
    'a failure is a 400 "discovery failed: …" and nothing is stored. A plain OAuth 2.0 provider has no document: nothing is fetched'
  })
}

export const CreateProvider = Type.Object({
  name: ProviderName,
  issuer: providerFields.issuer,
  client_id: providerFields.client_id,
  client_secret: providerFields.client_secret,
  scope: Type.Optional(providerFields.scope),
  display_name: Type.Optional(providerFields.display_name),
  link_by_email: Type.Optional(providerFields.link_by_email),
  link_linked_accounts: Type.Optional(providerFields.link_linked_accounts),
  create_users: Type.Optional(providerFields.create_users),
  authorization_endpoint: Type.Optional(providerFields.authorization_endpoint),
  token_endpoint: Type.Optional(providerFields.token_endpoint),
  userinfo_endpoint: Type.Optional(providerFields.userinfo_endpoint),
  claims: Type.Optional(providerFields.claims),
  check_discovery: Type.Optional(providerFields.check_discovery)
}, {
  additionalProperties: false,
  examples: [{ name: 'google', issuer: 'https://accounts.google.com', client_id: '1234.apps.googleusercontent.com', client_secret: 'GOCSPX-…', display_name: 'Google', link_by_email: true }]
})

export const UpdateProvider = Type.Object({
  issuer: Type.Optional(providerFields.issuer),
  client_id: Type.Optional(providerFields.client_id),
  client_secret: Type.Optional(providerFields.client_secret),
  scope: Type.Optional(providerFields.scope),
  display_name: Type.Optional(providerFields.display_name),
  link_by_email: Type.Optional(providerFields.link_by_email),
  link_linked_accounts: Type.Optional(providerFields.link_linked_accounts),
  create_users: Type.Optional(providerFields.create_users),
  authorization_endpoint: Type.Optional(Type.String({ maxLength: 2048, description: '"" removes it' })),
  token_endpoint: Type.Optional(Type.String({ maxLength: 2048, description: '"" removes it' })),
  userinfo_endpoint: Type.Optional(Type.String({ maxLength: 2048, description: '"" removes it' })),
  claims: Type.Optional(providerFields.claims),
  check_discovery: Type.Optional(Type.Boolean({ description: 'with a new issuer or endpoint: read the discovery document first, as with POST (nothing to check otherwise)' }))
}, { additionalProperties: false })

export const ProviderView = Type.Object({
  name: Type.String(),
  issuer: Type.String(),
  client_id: Type.String(),
  scope: Type.String(),
  display_name: Type.String(),
  link_by_email: Type.Boolean(),
  link_linked_accounts: Type.Boolean(),
  create_users: Type.Boolean(),
  authorization_endpoint: NullableString,
  token_endpoint: NullableString,
  userinfo_endpoint: NullableString,
  claims: Type.Object({
    subject: Type.String(),
    email: NullableString,
    email_verified: NullableString,
    name: NullableString,
    username: NullableString
  }),
  redirect_uri: Type.String({ description: 'what to register at the provider: ISSUER/login/{name}/callback' }),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  discovery: Type.Optional(Type.Object({
    discovered: Type.Boolean({ description: 'false: a plain OAuth 2.0 provider, which has no discovery document (nothing was fetched; its own endpoints)' }),
    issuer: Type.String(),
    authorization_endpoint: NullableString,
    token_endpoint: NullableString,
    userinfo_endpoint: NullableString,
    jwks_uri: NullableString
  }, { description: 'only in the answer to a POST or PATCH with check_discovery that ran the check: what the provider\'s discovery document gave' }))
}, {
  $id: 'Provider',
  description: 'An upstream provider as the API shows it (never its client secret)',
  examples: [{
    name: 'google',
    issuer: 'https://accounts.google.com',
    client_id: '1234.apps.googleusercontent.com',
    scope: 'email openid profile',
    display_name: 'Google',
    link_by_email: true,
    link_linked_accounts: false,
    create_users: true,
    authorization_endpoint: null,
    token_endpoint: null,
    userinfo_endpoint: null,
    claims: { subject: 'sub', email: 'email', email_verified: 'email_verified', name: 'name', username: 'preferred_username' },
    redirect_uri: 'https://auth.example.com/login/google/callback',
    created_at: 1767224700,
    updated_at: 1767224700
  }]
})

export const ProviderNameParam = Type.Object({ name: Type.String({ maxLength: 64 }) })

export const IdentityView = Type.Object({
  provider: Type.String(),
  issuer: Type.String(),
  subject: Type.String({ description: 'the account\'s subject at the provider' }),
  email: NullableString,
  linked_at: Type.Integer()
}, { description: 'a local user\'s account at an upstream provider' })

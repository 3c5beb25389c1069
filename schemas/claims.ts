import { Type } from '@sinclair/typebox'

/**
 * The standard claims of OpenID Connect Core §5.1 a user record holds besides name and e-mail: what the admin API
 * and the import take (lib/admin/user-claims.ts checks each value) and what /userinfo can answer.
 */
const text = (description: string) => Type.Optional(Type.String({ maxLength: 256, description }))
const url = (description: string) => Type.Optional(Type.String({ maxLength: 2048, description: `${description} (http or https URL)` }))

export const AddressClaim = Type.Object({
  formatted: Type.Optional(Type.String({ maxLength: 512, description: 'the full address, lines separated by \\n' })),
  street_address: text('street, house number, …'),
  locality: text('city'),
  region: text('state, province, …'),
  postal_code: text('postal code'),
  country: text('country')
}, { additionalProperties: false, description: 'OIDC Core §5.1.1' })

const standardClaims = {
  given_name: text('given name(s)'),
  family_name: text('surname(s)'),
  middle_name: text('middle name(s)'),
  nickname: text('casual name'),
  profile: url('profile page'),
  picture: url('profile picture'),
  website: url('web page or blog'),
  gender: text('`female`, `male`, or another value'),
  birthdate: Type.Optional(Type.String({ maxLength: 10, description: 'YYYY-MM-DD, or YYYY' })),
  zoneinfo: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone, such as Europe/Paris' })),
  locale: Type.Optional(Type.String({ maxLength: 35, description: 'BCP 47 language tag, such as en-US' })),
  phone_number: Type.Optional(Type.String({ maxLength: 32, description: 'E.164, such as +15555550100' })),
  phone_number_verified: Type.Optional(Type.Boolean({ description: 'the phone number was proven to be the user\'s' })),
  address: Type.Optional(AddressClaim)
}

const userClaims = (description: string) => Type.Object({
  ...standardClaims,
  email_verified: Type.Optional(Type.Boolean({ description: 'the e-mail address was proven to be the user\'s (default false)' }))
}, {
  additionalProperties: false,
  description,
  examples: [{ given_name: 'Alice', family_name: 'Liddell', locale: 'en-GB', zoneinfo: 'Europe/London', picture: 'https://example.com/alice.png' }]
})

/** A user's standard claims, as the admin API sets and shows them. */
export const UserClaims = userClaims('standard claims (OpenID Connect Core §5.1) besides name and e-mail; unknown names are refused')
/** The same in an update: the whole new set. */
export const UserClaimsUpdate = userClaims('the complete new set of standard claims: replaces the stored one ({} clears it)')

/** What /userinfo may answer (OIDC Core §5.3.2): `sub` and the claims the token's scopes and the `claims` parameter reach. */
export const userInfoProperties = {
  sub: Type.String({ description: 'the user\'s id: the same in ID tokens, access tokens and /users/me' }),
  name: Type.Optional(Type.String()),
  preferred_username: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  email_verified: Type.Optional(Type.Boolean()),
  updated_at: Type.Optional(Type.Integer({ description: 'seconds since the epoch of the user record\'s last change' })),
  ...standardClaims
}

import { Type } from '@sinclair/typebox'
import { OneOf } from './vocabulary.js'

/** GET /admin/users/{username}/factors and `gatehouse users factors` (lib/admin/factors.ts): never a secret or a key. */
export const FactorView = Type.Object({
  id: Type.String({ description: 'the factor\'s id (DELETE …/factors/{id} removes it)' }),
  kind: OneOf(['totp', 'passkey'], { description: '`totp`: an authenticator app; `passkey`: a WebAuthn credential' }),
  name: Type.String({ description: 'the name the user gave it' }),
  created_at: Type.Integer(),
  confirmed: Type.Boolean({ description: 'whether it counts: false for an authenticator app whose first code never came' }),
  last_used_at: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'when it was last accepted (Unix seconds); null when never' }),
  device_type: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'passkeys only: `singleDevice` (bound to one authenticator) or `multiDevice` (synced); null when not recorded' })),
  backed_up: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: 'passkeys only: whether it is backed up to the user\'s other devices; null when not recorded' }))
}, { description: 'a second factor of a user (never its secret, public key or credential id)' })

export const FactorsView = Type.Object({
  factors: Type.Array(FactorView, { description: 'oldest first, confirmed or not' }),
  recovery_codes_left: Type.Integer({ minimum: 0, description: 'the user\'s unused recovery codes' })
}, {
  description: 'a user\'s second factors and passkeys',
  examples: [{ factors: [{ id: 'b3f1…', kind: 'totp', name: 'Phone', created_at: 1767224700, confirmed: true, last_used_at: 1767225000 }], recovery_codes_left: 9 }]
})

export const FactorParams = Type.Object({ username: Type.String({ maxLength: 256 }), id: Type.String({ maxLength: 128 }) })

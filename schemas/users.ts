import { Type, type Static } from '@sinclair/typebox'
import { BearerErrorResponse, NullableString } from './common.js'
import type { User } from '../lib/stores/types.js'

/** A user as the API shows it: never the password hash. */
export const UserView = Type.Object({
  sub: Type.String({ description: 'stable subject identifier' }),
  username: Type.String(),
  full_name: NullableString,
  email: NullableString,
  disabled: Type.Boolean(),
  scope: Type.String({ description: 'scopes the user may be granted, space-separated' })
}, { $id: 'User' })
export type UserViewBody = Static<typeof UserView>

export function toUserView (user: User): UserViewBody {
  return { sub: user.id, username: user.username, full_name: user.fullName, email: user.email, disabled: user.disabled, scope: user.scope }
}

export const bearerErrors = {
  400: BearerErrorResponse,
  401: BearerErrorResponse,
  403: BearerErrorResponse,
  503: BearerErrorResponse
}

export const meSchema = {
  tags: ['users'],
  summary: 'The signed-in user',
  security: [{ bearerAuth: [] }],
  response: { 200: UserView, ...bearerErrors }
}

import type { TSchema } from '@sinclair/typebox'
import { AdminErrorSchemas, ClientView, ImportStoppedError, KeyRotation, SigningKeyView } from './admin.js'
import { BearerErrorSchema, OAuthErrorSchema } from './common.js'
import { Jwks, ServerMetadata } from './discovery.js'
import { HealthStatus } from './health.js'
import { IntrospectionResponse } from './token-management.js'
import { TokenResponse } from './token.js'
import { DeviceAuthorizationResponse } from './device.js'
import { PushedAuthorizationResponse } from './par.js'
import { UserView } from './users.js'
import { HtmlPage, UserInfo } from './browser.js'
import { ProviderView } from './providers.js'
import { InvitationView } from './invitations.js'
import { ResourceView } from './resources.js'
import { RegistrationErrorSchema, RegistrationResponse } from './registration.js'

/**
 * Every schema with an `$id`, registered once (plugins/schemas.ts) and referenced from route schemas with
 * `ref()`: the OpenAPI document lists them under `components.schemas` by these names, which generated clients
 * turn into named types. A new shared schema goes here.
 */
export const sharedSchemas: TSchema[] = [
  OAuthErrorSchema,
  BearerErrorSchema,
  ...Object.values(AdminErrorSchemas),
  TokenResponse,
  DeviceAuthorizationResponse,
  PushedAuthorizationResponse,
  IntrospectionResponse,
  UserView,
  ClientView,
  ImportStoppedError,
  KeyRotation,
  SigningKeyView,
  ServerMetadata,
  Jwks,
  HealthStatus,
  HtmlPage,
  UserInfo,
  ProviderView,
  InvitationView,
  ResourceView,
  RegistrationResponse,
  RegistrationErrorSchema
]

import { Type } from '@sinclair/typebox'
import { NullableString } from './common.js'

/** The admin API's RFC 8707 resources (routes/admin/resources.ts; the rules: lib/admin/resources.ts). */

export const CreateResource = Type.Object({
  uri: Type.String({ maxLength: 2048, description: 'absolute, no fragment, https (http only on localhost, 127.0.0.1 or [::1]); the tokens\' `aud`, byte for byte' }),
  name: Type.Optional(NullableString),
  scope: Type.Optional(Type.String({ maxLength: 4096, description: 'the scopes the resource defines, space-separated (never an OpenID Connect one); its tokens carry only these' }))
}, { additionalProperties: false })

export const ResourceView = Type.Object({
  uri: Type.String(),
  name: Type.Union([Type.String(), Type.Null()], { description: 'what the consent page calls it; null: the URI' }),
  scope: Type.String({ description: 'the scopes it defines, space-separated' }),
  created_at: Type.Integer()
}, {
  $id: 'Resource',
  description: 'An RFC 8707 resource: an API (an MCP server) access tokens may be issued for, with `aud` = its URI'
})

export const ResourceUriParam = Type.Object({ uri: Type.String({ maxLength: 2048, description: 'the resource\'s URI, percent-encoded as one path segment' }) })

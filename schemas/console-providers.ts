import { Type } from '@sinclair/typebox'
import { AdminErrorSchemas } from './admin.js'
import { htmlOrJson } from './browser.js'
import { ref } from './common.js'
import { form, page, paramErrors } from './console.js'

/**
 * The admin console's upstream providers and resources pages (routes/console/providers.ts, resources.ts;
 * docs/console.md). As every console page: HTML for a signed-in administrator, the forms read by the routes and
 * judged by lib/admin (providers.ts, resources.ts); the schemas only bound their size.
 */

/** A provider page's path: a path that does not decode, or a name longer than any, is JSON as with the other pages. */
const providerParamErrors = {
  ...paramErrors,
  404: htmlOrJson('no such provider: a page; JSON for a path no page has', ref(AdminErrorSchemas.notFound))
}

const ProviderNameParam = Type.Object({ name: Type.String({ maxLength: 64 }) })

/** What the provider page's forms do, each through the admin API's own service (routes/console/providers.ts). */
export const PROVIDER_ACTIONS = ['update', 'delete'] as const
export type ProviderAction = typeof PROVIDER_ACTIONS[number]
const ProviderActionParams = Type.Object({ name: Type.String({ maxLength: 64 }), action: Type.Union(PROVIDER_ACTIONS.map((a) => Type.Literal(a))) })

export const consoleProviderSchemas = {
  providers: page('consoleProviders', 'Upstream providers', 'Every upstream provider, by name, with its redirect URI. Not paged: GET /admin/providers ' +
    'lists them all (providers are few).'),
  newProvider: page('consoleNewProvider', 'Add an upstream provider', 'The form that registers an upstream provider (OpenID by its issuer, or plain OAuth 2.0 by its endpoints).'),
  createProvider: form('consoleCreateProvider', 'Add an upstream provider', 'Registers a provider as POST /admin/providers does (lib/admin/providers.ts createProvider); ' +
    'the client secret is stored and never shown again.'),
  provider: page('consoleProvider', 'An upstream provider', 'A provider\'s settings (never its client secret) and the redirect URI to register at it, with the forms that ' +
    'change or remove it.', { params: ProviderNameParam, paramErrors: providerParamErrors }),
  providerAction: form('consoleProviderAction', 'Change an upstream provider', 'One action on a provider, as the admin API does it: `update` (the fields of ' +
    'PATCH /admin/providers/{name}; an empty client secret keeps the stored one), `delete` (with `confirm` ticked).', { params: ProviderActionParams, paramErrors: providerParamErrors }),
  resources: page('consoleResources', 'Resources', 'RFC 8707 resources by URI, a page at a time (`limit`, `offset`, as GET /admin/resources), with the form that adds one.'),
  createResource: form('consoleCreateResource', 'Add a resource', 'Registers a resource (URI, name, scope) as POST /admin/resources does (lib/admin/resources.ts addResource).'),
  removeResource: form('consoleRemoveResource', 'Remove a resource', 'Removes the resource `uri` (with `confirm` ticked) as DELETE /admin/resources/{uri} does: its tokens ' +
    'stop being active at introspection.')
}

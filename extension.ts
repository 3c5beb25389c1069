/**
 * What an extension (a file in ROUTES_DIR or PLUGINS_DIR) needs to type its code against Gatehouse: the
 * decorators' types, in one module. Importing any type from here also brings the `declare module
 * 'fastify'` augmentations, so `fastify.authenticate`, `request.auth`, `request.jwtVerify()`, `request.user`
 * and the rest are typed.
 *
 *   import { fp, type Authenticated, type User } from 'gatehouse/extension'
 */
export type { AccessTokenClaims } from './lib/oauth/access-token-rules.js'
export type { Clock } from './lib/clock.js'
export type { Config } from './lib/config.js'
export type { Standing } from './lib/oauth/token-standing.js'
export type { Client, Identity, Storage, UpstreamProvider, User, UserStore } from './lib/stores/types.js'
export type { ProviderInput, ProviderView } from './lib/admin/providers.js'
export type { Authenticated } from './plugins/authenticate.js'
export type { JwtUser } from './plugins/jwt.js'
export { BearerError, insufficientScope, invalidToken, OAuthError } from './lib/errors.js'
/** fastify-plugin, for plugins built outside this repository (so they need not install it themselves). */
export { default as fp } from 'fastify-plugin'

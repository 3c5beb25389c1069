import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { readFileSync } from 'node:fs'
import { securitySchemes } from '../schemas/security.js'

/** sha256 of `.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}`, the <style> in Swagger UI's logo. */
const SWAGGER_LOGO_STYLE = 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * The OpenAPI document is generated from the routes' TypeBox schemas (one source for validation, types
 * and the contract). Served at /openapi.json and browsable at /docs; `npm run openapi` writes openapi.yaml.
 * Shared schemas keep their `$id` as their name under `components.schemas` (refResolver), so generated
 * clients get named types; every operation has an operationId, a tag and a summary (test/contract/openapi.test.ts).
 */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        description: 'An OAuth 2.0 authorization server: RFC 6749 grants, RFC 9068 JWT access tokens, RFC 7009 revocation, RFC 7662 introspection, RFC 8414 metadata.',
        version
      },
      // The issuer's URL (its path kept, no trailing slash) as the one server: generated clients take it as their
      // default base URL (@hey-api/openapi-ts's `baseUrl`; without it, the document's file name).
      servers: [{ url: fastify.config.issuer.replace(/\/+$/, ''), description: 'this Gatehouse (ISSUER)' }],
      tags: [
        { name: 'oauth', description: 'OAuth 2.0 endpoints (form-encoded requests, RFC 6749 §5.2 errors)' },
        { name: 'registration', description: 'Dynamic client registration (RFC 7591, RFC 7592; JSON requests), when REGISTRATION is not off' },
        { name: 'users', description: 'Resources protected by bearer tokens (RFC 6750 errors)' },
        { name: 'discovery', description: 'Metadata and keys' },
        { name: 'admin', description: 'Administration (scope admin)' },
        { name: 'operations', description: 'Health, readiness and metrics' },
        { name: 'browser', description: 'Browser sign-in: the authorization endpoint, login, consent and logout pages (HTML and redirects)' },
        { name: 'console', description: 'The admin console (HTML pages for administrators signed in to it: docs/console.md)' },
        { name: 'oidc', description: 'OpenID Connect resources (RFC 6750 errors)' }
      ],
      components: {
        securitySchemes: securitySchemes(fastify.config.issuer) as never
      }
    }
  })
  // Swagger UI sets its own CSP (after our html-security-headers hook), so it gets ours verbatim: local
  // assets only, never framed, and no call-out to the public swagger validator. "Authorize" and "Try it
  // out" call the API with fetch from the page, so they work where the page's origin is ISSUER's (the
  // oauth2 flows' token URL): connect-src 'self'. The one inline style allowed, by its hash, is the
  // <style> of Swagger UI's own logo (an inline SVG in the top bar).
  const issuerPath = new URL(fastify.config.issuer).pathname.replace(/\/+$/, '') || '/'
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: "default-src 'self'; base-uri 'none'; connect-src 'self'; font-src 'self' data:; img-src 'self' data:; object-src 'none'; " +
      `script-src 'self'; script-src-attr 'none'; style-src 'self' '${SWAGGER_LOGO_STYLE}'; form-action 'self'; frame-ancestors 'none'`,
    uiConfig: { validatorUrl: null },
    // The page's own copy of the document names its server by path alone: "Try it out" and the oauth2 flows' relative
    // token URL then go to the origin the page was opened at (http://127.0.0.1:3000 as well as ISSUER's), which is
    // what connect-src 'self' allows. The document generated clients read (/openapi.json, openapi.yaml) keeps ISSUER.
    transformSpecification: (document: Record<string, unknown>) => ({ ...document, servers: [{ url: issuerPath, description: 'this Gatehouse, at the address this page was opened at' }] })
  })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}, { name: 'swagger', dependencies: ['config', 'schemas'] })

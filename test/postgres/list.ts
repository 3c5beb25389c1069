/**
 * Which app-level test files (those that build the app: `build`, `buildListening`, or a helper of test/support
 * that calls them) run a second time on PostgreSQL, and which run once, each with its reason.
 *
 * `npm test` (scripts/prepare-tests.mjs, after tsc) writes one wrapper per listed file into
 * dist/test/postgres/<the same path>.test.js: it sets GATEHOUSE_TEST_BACKEND=postgres and imports the compiled
 * file, so every test in it builds its app on a PostgreSQL schema of its own (test/support/helper.ts). The
 * wrappers are separate files, which tap runs in parallel like any other. They are generated, not tracked.
 * test/lint/postgres-list.test.ts fails when an app-level file is in neither list.
 *
 * One file on PostgreSQL: `npx tap dist/test/postgres/routes/token/password.test.js` after `npm run build:test`.
 * Paths are relative to test/.
 */
export const onPostgresToo: readonly string[] = [
  'app/extension.test.ts',
  'app/plugins-dir.test.ts',
  'app/proxy.test.ts',
  'app/request-framing.test.ts',
  'cli/cli.test.ts',
  'cli/password-reset.test.ts',
  'cli/providers.test.ts',
  'conformance/basic.test.ts',
  'crash/mail.test.ts',
  'conformance/config.test.ts',
  'conformance/form-post-basic.test.ts',
  'conformance/rp-initiated-logout.test.ts',
  'docs/docs.test.ts',
  'e2e/backchannel-logout.test.ts',
  'e2e/form-post.test.ts',
  'e2e/oauth4webapi.test.ts',
  'e2e/oidc-browser.test.ts',
  'e2e/password-reset.test.ts',
  'e2e/upstream.test.ts',
  'fuzz/openapi.test.ts',
  'fuzz/regressions.test.ts',
  'lib/browser/sessions.test.ts',
  'plugins/browser-session.test.ts',
  'plugins/cors.test.ts',
  'plugins/error-handler.test.ts',
  'plugins/html-security-headers.test.ts',
  'plugins/mail.test.ts',
  'plugins/metrics.test.ts',
  'plugins/redis.test.ts',
  'plugins/signing-keys.test.ts',
  'plugins/sweep.test.ts',
  'process/restart.test.ts',
  'resource-server/plugin.test.ts',
  'routes/admin/api.test.ts',
  'routes/admin/changes.test.ts',
  'routes/admin/json-types.test.ts',
  'routes/admin/user-import-limits.test.ts',
  'routes/admin/user-import.test.ts',
  'routes/browser/authorize-post.test.ts',
  'routes/browser/authorize.test.ts',
  'routes/browser/credential-change-race.test.ts',
  'routes/browser/flow.test.ts',
  'routes/browser/form-post.test.ts',
  'routes/browser/login.test.ts',
  'routes/browser/logout.test.ts',
  'routes/browser/sessions.test.ts',
  'routes/browser/verify-email.test.ts',
  'routes/browser/oidc-parameters.test.ts',
  'routes/browser/password-reset.test.ts',
  'routes/browser/upstream.test.ts',
  'routes/token-management.test.ts',
  'routes/token/authorization-code.test.ts',
  'routes/token/brute-force-race.test.ts',
  'routes/token/brute-force.test.ts',
  'routes/token/client-credentials.test.ts',
  'routes/token/empty-parameters.test.ts',
  'routes/token/error-codes.test.ts',
  'routes/token/password.test.ts',
  'routes/token/signing-algorithms.test.ts',
  'routes/token/refresh-token.test.ts',
  'routes/userinfo/claims.test.ts',
  'routes/users/me.test.ts',
  'routes/well-known/discovery.test.ts',
  'routes/well-known/scopes-supported.test.ts',
  'security/a-authorization-endpoint.test.ts',
  'security/b-bearer.test.ts',
  'security/cc-client-credentials.test.ts',
  'security/f-upstream.test.ts',
  'security/i-introspection.test.ts',
  'security/j-jwt.test.ts',
  'security/l-events-log.test.ts',
  'security/l-logs.test.ts',
  'security/m-metadata.test.ts',
  'security/p-password.test.ts',
  'security/planted-bugs.test.ts',
  'security/r-refresh.test.ts',
  'security/t-token-endpoint.test.ts',
  'security/u-accounts.test.ts',
  'security/v-revocation.test.ts'
]

/** App-level test files that run once, and why the backend switch would change nothing for them. */
export const onceOnly: Readonly<Record<string, string>> = {
  'contract/openapi.test.ts': 'compares the OpenAPI document the routes describe with openapi.yaml; no request reaches a store',
  'contract/openapi-client.test.ts': 'type-checks a client generated from openapi.yaml (tsc), then sends POST /token, GET /users/me and GET /admin/users with it: those routes run on PostgreSQL in routes/',
  'e2e/swagger-ui.test.ts': 'the Swagger UI page in Chromium; the two token requests it sends run on PostgreSQL in routes/token/ and e2e/oauth4webapi',
  'stores/postgres-refuses.test.ts': 'PostgreSQL only already: it creates, refuses and drops a database of its own',
  'plugins/views.test.ts': 'which folder each page template is read from (VIEWS_DIR or views/); the sign-in and logout it drives run on PostgreSQL in routes/browser/'
}

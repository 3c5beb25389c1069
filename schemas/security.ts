/**
 * How the OpenAPI document says who may call what. The schemes describe the real flows, so that Swagger UI's
 * "Authorize" dialog (and any generated client) can sign in the way a user of the FastAPI tutorial's docs
 * does; every URL comes from ISSUER (the token URL is its path alone: oauth2Flows). The names `bearerAuth` and `clientSecretBasic` are part of the document
 * (the fuzzer and generated clients key on them): extend, never rename.
 */

/** Scopes the document names in the oauth2 flows; deployments define their own beside these. */
const DOCUMENTED_SCOPES: Record<string, string> = {
  admin: 'the administration API (/admin/…)',
  openid: 'OpenID Connect: an ID token and /userinfo',
  profile: 'name and username at /userinfo',
  email: 'e-mail address at /userinfo'
}

/**
 * The OAuth 2.0 flows of the `oauth2` scheme. The token URL is ISSUER's path plus /token with no scheme or host
 * (`/token`: a relative reference, which OpenAPI allows and Swagger UI resolves against the page): "Authorize" in
 * /docs posts to the server that served the page, so it works at every address the server answers on
 * (http://127.0.0.1:3000 and http://localhost:3000 alike), under the page's `connect-src 'self'`. The token it
 * gets is the same: its `iss` is ISSUER, never the address. The authorization URL, a page the browser opens
 * (not a fetch), stays ISSUER's own.
 */
export function oauth2Flows (issuer: string): Record<string, unknown> {
  const tokenUrl = `${new URL(issuer).pathname.replace(/\/$/, '')}/token`
  return {
    password: { tokenUrl, refreshUrl: tokenUrl, scopes: DOCUMENTED_SCOPES },
    clientCredentials: { tokenUrl, scopes: DOCUMENTED_SCOPES },
    authorizationCode: { authorizationUrl: `${issuer}/authorize`, tokenUrl, refreshUrl: tokenUrl, scopes: DOCUMENTED_SCOPES }
  }
}

export function securitySchemes (issuer: string): Record<string, Record<string, unknown>> {
  return {
    oauth2: {
      type: 'oauth2',
      description: 'Sign in at the token endpoint. Password flow: a user\'s username and password; leave client_id empty ' +
        'to use the built-in public client `default`. Client credentials: a confidential client\'s id and secret.',
      flows: oauth2Flows(issuer)
    },
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An RFC 9068 access token from POST /token (RFC 6750)' },
    clientSecretBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic (RFC 6749 §2.3.1): client id and secret, each form-encoded' },
    metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, the scrape token of GET /metrics (when the server sets one)' },
    registrationToken: { type: 'http', scheme: 'bearer', description: 'RFC 7591/7592: an initial access token (`gatehouse registration-tokens add`) at POST /register, a registration access token at /register/{client_id}' }
  }
}

/** A bearer-protected operation that needs `scopes` (none: any valid token): the oauth2 flows or a pasted token. */
export const bearerSecurity = (...scopes: string[]): Array<Record<string, string[]>> => [{ oauth2: scopes }, { bearerAuth: scopes }]

/** An operation anyone may call. */
export const noSecurity: Array<Record<string, string[]>> = []

/** GET /metrics: the METRICS_TOKEN when the server sets one, else anyone. */
export const metricsSecurity: Array<Record<string, string[]>> = [{ metricsToken: [] }, {}]

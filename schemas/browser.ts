import { Type, type TSchema } from '@sinclair/typebox'
import { AdminErrorSchemas } from './admin.js'
import { bearerRefusals, BearerErrorSchema, OAuthErrorSchema, ref } from './common.js'
import { bearerSecurity, noSecurity } from './security.js'
import { userInfoProperties } from './claims.js'

/**
 * The browser endpoints (/authorize, /login, /consent, /logout) answer HTML pages and redirects, documented
 * as such; /userinfo is JSON. Query and form parameters are read by lib/oauth/authorize.ts, not by a strict
 * schema: conformant clients send parameters the server does not know, and those must be ignored (OIDC Core
 * §3.1.2.1), while a repeated one must be refused in OAuth's way, not Ajv's.
 */
export const HtmlPage = Type.String({ $id: 'HtmlPage', description: 'an HTML page (text/html)' })

export const html = (description: string) => ({ description, content: { 'text/html': { schema: ref(HtmlPage) } } })
export const redirect = (description: string) => ({ description, type: 'null' })
/** The form posts: Fastify refuses a body it cannot read, or one too large, before the route. */
export const formErrors = {
  413: html('the form is larger than the limit'),
  415: html('the body is not a form (application/x-www-form-urlencoded)')
}
export const browserErrors = {
  400: html('an error page: unknown client, unregistered redirect_uri or another request that cannot go back to the client (never a redirect)'),
  403: html('the form\'s CSRF token is missing or not this browser\'s, or it came from another site'),
  429: html('too many failed sign-ins for this account or address; Retry-After says when to try again'),
  503: html('the server cannot serve the request now (the database is unreachable); Retry-After says when to try again')
}

export const AuthorizeParameters = Type.Object({
  response_type: Type.Optional(Type.String({ description: '`code` (the only one supported)' })),
  client_id: Type.Optional(Type.String({ description: 'a registered client allowed authorization_code' })),
  redirect_uri: Type.Optional(Type.String({ description: 'one of the client\'s registered redirect URIs, exactly (a loopback one on any port)' })),
  scope: Type.Optional(Type.String({ description: 'space-separated; `openid` for an ID token, `profile`, `email`' })),
  state: Type.Optional(Type.String({ description: 'echoed byte-exact on the answer back' })),
  response_mode: Type.Optional(Type.String({ description: '`query` (the default: a redirect) or `form_post` (a page whose form posts the answer to the redirect URI); another value is invalid_request' })),
  code_challenge: Type.Optional(Type.String({ description: 'PKCE S256 challenge (required, unless a confidential client was registered with pkce optional)' })),
  code_challenge_method: Type.Optional(Type.String({ description: '`S256` (with a code_challenge; `plain` is refused)' })),
  nonce: Type.Optional(Type.String({ description: 'copied into the ID token' })),
  prompt: Type.Optional(Type.String({ description: '`none`, `login` or `consent`' })),
  max_age: Type.Optional(Type.String({ description: 'seconds since the user last entered their password, at most' })),
  login_hint: Type.Optional(Type.String({ description: 'a username to fill in on the login page' })),
  id_token_hint: Type.Optional(Type.String({
    description: 'an ID token this server issued to this client (expired is fine); with prompt=none, another user signed in is ' +
      'login_required; one that does not verify is invalid_request'
  })),
  display: Type.Optional(Type.String({ description: '`page`, `popup`, `touch` or `wap` (one layout serves them all); another value is invalid_request' })),
  ui_locales: Type.Optional(Type.String({ description: 'the languages the pages should be in, in order (space-separated BCP 47 tags): the first Gatehouse has (en, fr) wins over Accept-Language, through the whole sign-in' })),
  claims_locales: Type.Optional(Type.String({ description: 'accepted; claims are in one language' })),
  acr_values: Type.Optional(Type.String({ description: 'space-separated, in order of preference; urn:gatehouse:acr:mfa without urn:gatehouse:acr:pwd asks for a second factor (step-up, or enrolment when the user has none); other values are ignored' })),
  resource: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], {
    description: 'RFC 8707: the URI of a registered resource (an API, an MCP server) the tokens are for; may repeat. An unknown one is ' +
      'invalid_target back to the client. Scopes that resource defines may then be asked for; the consent page names it'
  })),
  request: Type.Optional(Type.String({ description: 'a signed request object (RFC 9101, OIDC Core §6.1) from a client with keys: its parameters replace the query\'s (client_id aside); a bad one is invalid_request_object back to the client. From a client without keys: request_not_supported' })),
  request_uri: Type.Optional(Type.String({ description: 'not supported: request_uri_not_supported goes back to the client' }))
}, { additionalProperties: true })

const authorizeResponses = {
  200: html('the login or consent page; or, with response_mode=form_post, a page whose form posts `code` or `error`, `state` and `iss` to the redirect URI'),
  303: redirect('back to the client\'s redirect URI with `code` or `error`, and `state` and `iss`'),
  ...browserErrors
}

const authorizeDescription = 'Authorization code flow only, PKCE S256 required (unless a confidential client was registered with pkce optional). ' +
  'Shows the login page (no session, `prompt=login`, or `max_age` passed) or the consent page, then answers the redirect URI with ' +
  '`code`, `state` and `iss` (RFC 9207): a redirect, or with `response_mode=form_post` a self-submitting form. Errors about the ' +
  'client or the redirect URI are an HTML page and never go back; the others go back to the client as `error`, `state`, `iss`. ' +
  '`request` (a signed request object, RFC 9101) is taken from clients with keys (docs/client-authentication.md) and refused ' +
  '(request_not_supported) from others; `request_uri` is refused (request_uri_not_supported). Unknown parameters are ignored.'

export const authorizeSchema = {
  operationId: 'authorize',
  tags: ['browser'],
  summary: 'Authorization endpoint (RFC 6749 §4.1, OpenID Connect): sign in and consent in a browser',
  description: authorizeDescription,
  security: noSecurity,
  querystring: AuthorizeParameters,
  response: authorizeResponses
}

export const authorizePostSchema = {
  operationId: 'authorizePost',
  tags: ['browser'],
  summary: 'Authorization endpoint, POST (OpenID Connect Core §3.1.2.1): the same request as a form',
  description: `The parameters of GET /authorize as a form body (the client's page submits it; no CSRF token), answered as GET answers. ${authorizeDescription}`,
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  body: AuthorizeParameters,
  response: { ...authorizeResponses, ...formErrors }
}

export const loginPageSchema = {
  operationId: 'showLoginPage',
  tags: ['browser'],
  summary: 'The login page',
  description: 'A sign-in form (username, password, a hidden CSRF token); with a session, who is signed in and a sign-out button. ' +
    '`return_to` is only ever a path of this server\'s authorization endpoint.',
  security: noSecurity,
  querystring: Type.Object({ return_to: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: { 200: html('the login page, or the signed-in page'), ...browserErrors }
}

export const loginSchema = {
  operationId: 'submitLogin',
  tags: ['browser'],
  summary: 'Sign in (the login form)',
  description: 'Form fields `username`, `password`, `csrf` and `return_to`. Same brute-force limits and the same answer for an unknown ' +
    'user, a wrong password and a disabled user as the password grant. Success: a new session (its id replaced), then 303 to the ' +
    'client (or to the consent page).',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    303: redirect('signed in: on to the client, the consent page, or the signed-in page'),
    401: html('the login page again, with "invalid username or password"'),
    ...browserErrors,
    ...formErrors
  }
}

export const consentSchema = {
  operationId: 'submitConsent',
  tags: ['browser'],
  summary: 'Allow or deny a client (the consent form)',
  description: 'Form fields `decision` (`allow` or `deny`), `csrf` and `return_to`. Allow remembers the scopes for this user and client ' +
    'and continues to the client with a code; deny sends `error=access_denied` back to the client.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: { 303: redirect('on to the client (a code, or access_denied), or to the login page'), ...browserErrors, ...formErrors }
}

export const logoutSchema = {
  operationId: 'logout',
  tags: ['browser'],
  summary: 'End the session (OpenID Connect RP-Initiated Logout 1.0)',
  description: 'Ends the browser\'s session when the request is tied to it: an `id_token_hint` issued to the signed-in user, for an ' +
    'existing client, whose `sid` (if any) is this session\'s. Otherwise, while someone is signed in, shows a confirmation page whose form ' +
    'posts to `POST /logout` (so a cross-site link cannot sign anyone out). With `id_token_hint` (or `client_id`) and a ' +
    '`post_logout_redirect_uri` registered for that client (matched exactly), the sign-out returns there with `state`; otherwise it shows ' +
    'the signed-out page. An error page (400), and no sign-out, for an `id_token_hint` this server did not issue, a `client_id` that ' +
    'contradicts it, an unknown client, or a `post_logout_redirect_uri` not registered for the client. An unregistered URI is never redirected to. ' +
    'Ending a session sends a back-channel logout token to each client it signed into that registered a back-channel logout URI.',
  security: noSecurity,
  querystring: Type.Object({
    id_token_hint: Type.Optional(Type.String()),
    post_logout_redirect_uri: Type.Optional(Type.String()),
    state: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String())
  }, { additionalProperties: true }),
  response: { 200: html('the signed-out page, or the confirmation page'), 303: redirect('to the registered post_logout_redirect_uri, with `state`'), ...browserErrors }
}

export const logoutFormSchema = {
  operationId: 'submitLogout',
  tags: ['browser'],
  summary: 'Sign out (the confirmation page\'s and the signed-in page\'s form)',
  description: 'Form field `csrf` (a post without it, or from another origin, is refused with 403 and signs nobody out); optional ' +
    '`client_id`, `post_logout_redirect_uri` and `state`, held to the same rules as `GET /logout`. Ends the session, then returns to ' +
    'the registered URI with `state`, or shows the signed-out page.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: { 200: html('the signed-out page'), 303: redirect('to the registered post_logout_redirect_uri, with `state`'), ...browserErrors, ...formErrors }
}

export const UserInfo = Type.Object(userInfoProperties, { $id: 'UserInfo', description: 'OpenID Connect Core §5.3 claims, by scope (§5.4) and by the claims parameter (§5.5)', examples: [{ sub: '0b9c7a8e-3f6d-4c1e-9a2b-5d4e3f2a1b0c', name: 'Alice Liddell', preferred_username: 'alice' }] })

const userInfoBase = {
  tags: ['oidc'],
  security: bearerSecurity('openid'),
  response: {
    200: ref(UserInfo, 'the claims the token\'s scopes allow'),
    400: ref(BearerErrorSchema, 'the token was sent in more than one way (invalid_request)'),
    ...bearerRefusals('openid'),
    503: ref(OAuthErrorSchema, 'temporarily_unavailable: the database is unreachable')
  }
}

export const userInfoGetSchema = {
  ...userInfoBase,
  operationId: 'getUserInfo',
  summary: 'UserInfo endpoint (OpenID Connect Core §5.3)',
  description: 'The signed-in user\'s claims for an access token with scope `openid`: `sub`; with `profile` `name`, ' +
    '`given_name`, `family_name`, `preferred_username`, `picture`, `locale`, `zoneinfo`, `updated_at`… (those the user record ' +
    'holds); with `email` `email` and `email_verified`; with `address` `address`; with `phone` `phone_number` and ' +
    '`phone_number_verified`; and the claims the authorization request\'s `claims` parameter asked for at `userinfo`.'
}

export const userInfoPostSchema = {
  ...userInfoBase,
  response: {
    ...userInfoBase.response,
    413: ref(OAuthErrorSchema, 'the body is larger than the limit'),
    415: ref(OAuthErrorSchema, 'the body is of a type the server does not read')
  },
  operationId: 'postUserInfo',
  summary: 'UserInfo endpoint, POST (OpenID Connect Core §5.3)',
  description: 'As GET /userinfo; the token in the Authorization header or, here only, in the form body as ' +
    '`access_token` (RFC 6750 §2.2); both at once is invalid_request.',
  consumes: ['application/x-www-form-urlencoded']
}

/**
 * The provider routes have a path parameter: a path that does not decode, or a name no provider can have, is
 * refused before any provider is looked up, as JSON like any unknown path (400 invalid_request, 404 not_found);
 * a well-formed name of no provider is the 404 page.
 */
export const htmlOrJson = (description: string, json: TSchema) => ({ description, content: { 'text/html': { schema: ref(HtmlPage) }, 'application/json': { schema: json } } })
const providerErrors = {
  400: htmlOrJson('an error page (a check of the sign-in failed, a bad authorization request), or JSON when the path does not decode', ref(OAuthErrorSchema)),
  404: htmlOrJson('no such provider: a page; JSON when the name is not a provider name at all', ref(AdminErrorSchemas.notFound))
}

const ProviderParam = Type.Object({ name: Type.String({ maxLength: 64, description: 'the provider\'s name' }) })

export const upstreamLoginSchema = {
  operationId: 'startUpstreamLogin',
  tags: ['browser'],
  summary: 'Sign in through an upstream provider',
  description: 'Sends the browser to the provider\'s authorization endpoint with `state`, `nonce` (OpenID) and PKCE `S256`, remembering ' +
    'the pending sign-in (10 minutes, single use) bound to this browser by a cookie. `return_to` is the `/authorize` path the login page carries.',
  security: noSecurity,
  params: ProviderParam,
  querystring: Type.Object({ return_to: Type.Optional(Type.String()) }, { additionalProperties: true }),
  response: {
    303: redirect('to the provider'),
    ...browserErrors,
    ...providerErrors,
    502: html('the provider cannot be reached (its discovery document)')
  }
}

export const upstreamCallbackSchema = {
  operationId: 'upstreamCallback',
  tags: ['browser'],
  summary: 'Where an upstream provider sends the browser back',
  description: 'Checks the pending sign-in (this browser\'s, not used, not expired), exchanges the code, validates the ID token ' +
    '(signature by the provider\'s JWKS, iss, aud, exp, nonce), finds or creates the local user, signs them in as the login form does, ' +
    'and continues the authorization request. The provider\'s `error=access_denied`, an account that may not sign in (unknown with ' +
    'create_users off, disabled) go back to the client as `error=access_denied`.',
  security: noSecurity,
  params: ProviderParam,
  querystring: Type.Object({
    code: Type.Optional(Type.String()),
    state: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
    error_description: Type.Optional(Type.String())
  }, { additionalProperties: true }),
  response: {
    303: redirect('signed in: on to the client, the consent page, or the signed-in page; or access_denied back to the client'),
    ...browserErrors,
    ...providerErrors,
    502: html('the provider cannot be reached, timed out, or answered nonsense')
  }
}

export const devicePageSchema = {
  operationId: 'showDevicePage',
  tags: ['browser'],
  summary: 'The device verification page (RFC 8628 §3.3)',
  description: 'A form for the user code a device shows (`user_code` fills it in, as verification_uri_complete does; it is still ' +
    'confirmed with a button, §5.4). Nothing is looked up until the form is posted.',
  security: noSecurity,
  querystring: Type.Object({ user_code: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: true }),
  response: { 200: html('the code form'), ...browserErrors }
}

export const deviceSchema = {
  operationId: 'submitDeviceCode',
  tags: ['browser'],
  summary: 'Enter a device\'s user code, then allow or deny it (RFC 8628 §3.3)',
  description: 'Form fields `user_code` and `csrf`; with `decision` (`allow` or `deny`) the consent page\'s answer. Every code tried ' +
    'counts against a per-address limit (20 per 5 minutes; 429 beyond). A live code leads to the login page, a second factor, then the ' +
    'consent page (always shown for a device, naming its code); the answer is a page saying the device may go on, or was refused.',
  security: noSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  response: {
    200: html('the login page, the consent page, or the page saying the device is connected or refused'),
    303: redirect('to the second-factor page'),
    ...browserErrors,
    ...formErrors
  }
}

/**
 * The one error hierarchy. Handlers throw these; the error-handler plugin turns them into
 * RFC 6749 §5.2 replies (OAuthError) or RFC 6750 §3 replies (BearerError).
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'too_many_requests'

export class OAuthError extends Error {
  readonly error: OAuthErrorCode
  readonly statusCode: number
  readonly headers: Record<string, string>

  constructor (error: OAuthErrorCode, description: string, statusCode = 400, headers: Record<string, string> = {}) {
    super(description)
    this.error = error
    this.statusCode = statusCode
    this.headers = headers
  }
}

export const REALM = 'gatehouse'

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description)
export const invalidGrant = (description = 'the grant is invalid, expired, revoked or was issued to another client') =>
  new OAuthError('invalid_grant', description)
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description)
export const unsupportedGrantType = (description: string) => new OAuthError('unsupported_grant_type', description)
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description)
/** 401; `usedBasic` adds the `WWW-Authenticate: Basic` challenge RFC 6749 §5.2 asks for. */
export const invalidClient = (usedBasic: boolean, description = 'client authentication failed') =>
  new OAuthError('invalid_client', description, 401, usedBasic ? { 'www-authenticate': `Basic realm="${REALM}"` } : {})
/** 429 with Retry-After: brute-force and fishing limits (RFC 6585 §4). */
export const tooManyRequests = (retryAfter: number, description = 'too many failed attempts; try again later') =>
  new OAuthError('too_many_requests', description, 429, { 'retry-after': String(retryAfter) })

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/** RFC 6750 §3: `code` undefined means "no credentials were sent" (a bare challenge, no error attribute). */
export class BearerError extends Error {
  readonly code: BearerErrorCode | undefined
  readonly statusCode: number
  readonly scope: string | undefined

  constructor (code: BearerErrorCode | undefined, description: string, scope?: string) {
    super(description)
    this.code = code
    this.scope = scope
    this.statusCode = code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : 401
  }

  /** The `WWW-Authenticate` value. Descriptions are ours, never attacker text, so quoting is safe. */
  challenge (): string {
    let value = `Bearer realm="${REALM}"`
    if (this.code) value += `, error="${this.code}", error_description="${this.message.replace(/["\\]/g, '')}"`
    if (this.scope) value += `, scope="${this.scope}"`
    return value
  }
}

export const missingToken = () => new BearerError(undefined, 'no bearer token')
export const invalidToken = (description = 'the access token is invalid, expired or revoked') =>
  new BearerError('invalid_token', description)
export const insufficientScope = (scope: string) =>
  new BearerError('insufficient_scope', `this resource needs the scope: ${scope}`, scope)

/** The database could not be reached: every endpoint that needs it answers 503 (OAuth shape). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
  constructor (cause?: unknown) {
    super('the database is unreachable', { cause })
  }
}

/** A rule of the admin API or CLI was broken: 400 invalid_request, 404 not_found or 409 conflict. */
export class AdminError extends Error {
  readonly code: 'invalid' | 'conflict' | 'not_found'
  constructor (message: string, code: 'invalid' | 'conflict' | 'not_found') {
    super(message)
    this.code = code
  }

  get statusCode (): number { return this.code === 'invalid' ? 400 : this.code === 'conflict' ? 409 : 404 }
  get error (): string { return this.code === 'invalid' ? 'invalid_request' : this.code }
}

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { freePort } from '../helper.js'

/**
 * A hand-rolled OpenID provider (jose signs) whose discovery, JWKS, authorization, token and userinfo endpoints
 * are real, but whose ID token goes bad on demand: set `op.mode` before Gatehouse exchanges the code. Used for
 * the F1 cases (and as a second, well-behaved IdP in mode 'good').
 *
 * /authorize has no login page: it records the request and redirects straight back to the redirect_uri with
 * code, state and iss (RFC 9207), or with error=access_denied in mode 'deny'. `signInAt(url)` does that over
 * fetch and returns the callback URL. /token checks the client (basic or post), the code (single use), the
 * redirect_uri and the PKCE verifier before it answers.
 */

export type HostileMode =
  | 'good'
  | 'wrong-iss' // iss is another issuer
  | 'wrong-aud' // aud is another client
  | 'alg-none' // unsigned JWT, alg "none"
  | 'bad-signature' // RS256 signed by a key that is not in the JWKS (same kid)
  | 'expired' // exp an hour ago (beyond any clock tolerance)
  | 'wrong-nonce' // a nonce other than the one in the authorization request
  | 'no-nonce' // no nonce claim at all although one was sent
  | 'deny' // /authorize answers error=access_denied
  | 'token-error' // /token answers 400 invalid_grant
  | 'token-hangs' // /token accepts the request and never answers

export interface HostileClaims {
  sub: string
  email?: string
  email_verified?: boolean
  name?: string
  preferred_username?: string
}

export interface HostileOpOptions {
  /** Gatehouse's callback URL(s) for this provider. */
  redirectUris: string | string[]
  clientId?: string
  clientSecret?: string
  claims?: HostileClaims
}

export interface HostileOp {
  issuer: string
  clientId: string
  clientSecret: string
  mode: HostileMode
  /** Who the ID token (and /userinfo) says signed in; change it between sign-ins. */
  claims: HostileClaims
  /** Requests the OP received, for assertions: authorization queries and token form bodies. */
  seen: { authorize: URLSearchParams[], token: URLSearchParams[], issued: Array<{ access_token: string, id_token: string }> }
  /** Follows Gatehouse's redirect to /authorize; returns the callback URL the OP sends the browser to. */
  signInAt: (authorizationUrl: string) => Promise<string>
  close: () => Promise<void>
}

interface PendingCode { clientId: string, redirectUri: string, nonce: string | null, challenge: string | null }

export async function startHostileOp (opts: HostileOpOptions): Promise<HostileOp> {
  const redirectUris = Array.isArray(opts.redirectUris) ? opts.redirectUris : [opts.redirectUris]
  const clientId = opts.clientId ?? 'gatehouse'
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url')
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const stranger = await generateKeyPair('RS256', { extractable: true })
  const publicJwk: JWK = { ...await exportJWK(rsa.publicKey), kid: 'hostile-rs256', alg: 'RS256', use: 'sig' }
  const codes = new Map<string, PendingCode>()
  const hanging = new Set<ServerResponse>()

  const server = createHttpServer((req, res) => {
    handle(req, res).catch((err: unknown) => { res.statusCode = 500; res.end(String(err)) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`

  const op: HostileOp = {
    issuer,
    clientId,
    clientSecret,
    mode: 'good',
    claims: opts.claims ?? { sub: 'hostile-user-1', email: 'hal@hostile.test', email_verified: true, name: 'Hal Hostile', preferred_username: 'hal' },
    seen: { authorize: [], token: [], issued: [] },
    async signInAt (authorizationUrl) {
      const res = await fetch(authorizationUrl, { redirect: 'manual', signal: AbortSignal.timeout(10_000) })
      const location = res.headers.get('location')
      if (res.status !== 302 || !location) throw new Error(`hostile OP /authorize: ${res.status} ${await res.text()}`)
      return location
    },
    async close () {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify(body))
  }

  async function idToken (pending: PendingCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      ...op.claims,
      iss: op.mode === 'wrong-iss' ? 'http://127.0.0.1:1/not-this-issuer' : issuer,
      aud: op.mode === 'wrong-aud' ? 'another-client' : pending.clientId,
      iat: op.mode === 'expired' ? now - 7200 : now,
      exp: op.mode === 'expired' ? now - 3600 : now + 300
    }
    if (op.mode === 'wrong-nonce') claims.nonce = 'not-the-nonce-that-was-sent'
    else if (op.mode !== 'no-nonce' && pending.nonce !== null) claims.nonce = pending.nonce
    if (op.mode === 'alg-none') {
      const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
      return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
    }
    const key: CryptoKey = op.mode === 'bad-signature' ? stranger.privateKey : rsa.privateKey
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'hostile-rs256', typ: 'JWT' }).sign(key)
  }

  async function body (req: IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return new URLSearchParams(Buffer.concat(chunks).toString())
  }

  function clientAuthenticated (req: IncomingMessage, form: URLSearchParams): string | null {
    let id = form.get('client_id')
    let secret = form.get('client_secret')
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString()
      const colon = decoded.indexOf(':')
      id = decodeURIComponent(decoded.slice(0, colon))
      secret = decodeURIComponent(decoded.slice(colon + 1))
    }
    if (id !== clientId || secret === null) return null
    const a = Buffer.from(secret)
    const b = Buffer.from(clientSecret)
    return a.length === b.length && timingSafeEqual(a, b) ? id : null
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer)
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/openid-configuration':
        return json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/userinfo`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          scopes_supported: ['openid', 'email', 'profile'],
          authorization_response_iss_parameter_supported: true
        })
      case 'GET /jwks':
        return json(res, 200, { keys: [publicJwk] })
      case 'GET /authorize': {
        const q = url.searchParams
        op.seen.authorize.push(q)
        const redirectUri = q.get('redirect_uri') ?? ''
        if (q.get('client_id') !== clientId || !redirectUris.includes(redirectUri)) {
          res.writeHead(400, { 'content-type': 'text/plain' })
          res.end('unknown client or redirect_uri')
          return
        }
        const back = new URL(redirectUri)
        if (op.mode === 'deny') {
          back.searchParams.set('error', 'access_denied')
          back.searchParams.set('error_description', 'The user said no')
        } else {
          const code = randomBytes(16).toString('base64url')
          codes.set(code, { clientId, redirectUri, nonce: q.get('nonce'), challenge: q.get('code_challenge') })
          back.searchParams.set('code', code)
        }
        if (q.has('state')) back.searchParams.set('state', q.get('state') ?? '')
        back.searchParams.set('iss', issuer)
        res.writeHead(302, { location: back.href })
        res.end()
        return
      }
      case 'POST /token': {
        const form = await body(req)
        op.seen.token.push(form)
        if (op.mode === 'token-hangs') { hanging.add(res); return }
        if (!clientAuthenticated(req, form)) return json(res, 401, { error: 'invalid_client' })
        const code = form.get('code') ?? ''
        const pending = codes.get(code)
        codes.delete(code)
        const verifier = form.get('code_verifier')
        const pkceOk = pending?.challenge == null || (verifier !== null && createHash('sha256').update(verifier).digest('base64url') === pending.challenge)
        if (op.mode === 'token-error' || !pending || form.get('grant_type') !== 'authorization_code' || form.get('redirect_uri') !== pending.redirectUri || !pkceOk) {
          return json(res, 400, { error: 'invalid_grant' })
        }
        const issued = { access_token: `hostile-at-${randomBytes(12).toString('base64url')}`, id_token: await idToken(pending) }
        op.seen.issued.push(issued)
        return json(res, 200, { ...issued, token_type: 'Bearer', expires_in: 300 })
      }
      case 'GET /userinfo':
        if (!/^Bearer hostile-at-/.test(req.headers.authorization ?? '')) return json(res, 401, { error: 'invalid_token' })
        return json(res, 200, { ...op.claims })
      default:
        return json(res, 404, { error: 'not_found' })
    }
  }

  return op
}

/**
 * An issuer that cannot be reached. 'silent': a TCP port that accepts connections and never answers (the
 * slow-provider case: only a timeout ends the wait); 'closed': a port nobody listens on (connection refused).
 */
export async function startUnreachableIssuer (kind: 'silent' | 'closed'): Promise<{ issuer: string, close: () => Promise<void> }> {
  if (kind === 'closed') {
    const port = await freePort()
    return { issuer: `http://127.0.0.1:${port}`, close: async () => {} }
  }
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    issuer: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * A GitHub-like plain OAuth 2.0 provider (no discovery, no ID token) on loopback, port 0:
 *   GET  /login/oauth/authorize     → 302 back to redirect_uri with code & state (no login page; the user is
 *                                     `login` from the query, as GitHub's login hint, else `octocat`),
 *                                     or error=access_denied when `deny` is set
 *   POST /login/oauth/access_token  → JSON {access_token, token_type:"bearer", scope}; checks the client secret
 *                                     (post or basic), the code (single use), the redirect_uri and, when a
 *                                     code_challenge was sent, the PKCE verifier
 *   GET  /user                      → {id: 12345 (a number!), login, name, email} for `Authorization: Bearer|token …`
 * Endpoints for `providers add`: `op.endpoints`. Users are live: change `op.users.octocat.email` between sign-ins.
 */

export interface PlainUser {
  id: number
  login: string
  name: string | null
  email: string | null
  /** Not GitHub's: set it to test an `--email-verified-claim email_verified` mapping. */
  email_verified?: boolean
}

export interface PlainOAuthOptions {
  redirectUris: string | string[]
  clientId?: string
  clientSecret?: string
  users?: Record<string, PlainUser>
}

export interface PlainOAuth {
  /** The base URL (what to give as --issuer, if Gatehouse asks for one). */
  issuer: string
  endpoints: { authorization: string, token: string, userinfo: string }
  clientId: string
  clientSecret: string
  users: Record<string, PlainUser>
  /** When true, /login/oauth/authorize answers error=access_denied. */
  deny: boolean
  seen: { authorize: URLSearchParams[], token: URLSearchParams[] }
  /** Follows Gatehouse's redirect to the authorize endpoint as `login`; returns the callback URL. */
  signInAt: (authorizationUrl: string, login?: string) => Promise<string>
  close: () => Promise<void>
}

interface PendingCode { redirectUri: string, login: string, challenge: string | null }

export async function startPlainOAuth (opts: PlainOAuthOptions): Promise<PlainOAuth> {
  const redirectUris = Array.isArray(opts.redirectUris) ? opts.redirectUris : [opts.redirectUris]
  const clientId = opts.clientId ?? 'Iv1.gatehouse'
  const clientSecret = opts.clientSecret ?? randomBytes(20).toString('hex')
  const codes = new Map<string, PendingCode>()
  const tokens = new Map<string, string>() // access token → login

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => { res.statusCode = 500; res.end(String(err)) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`

  const op: PlainOAuth = {
    issuer,
    endpoints: { authorization: `${issuer}/login/oauth/authorize`, token: `${issuer}/login/oauth/access_token`, userinfo: `${issuer}/user` },
    clientId,
    clientSecret,
    users: opts.users ?? { octocat: { id: 12345, login: 'octocat', name: 'The Octocat', email: 'octocat@plain.test' } },
    deny: false,
    seen: { authorize: [], token: [] },
    async signInAt (authorizationUrl, login) {
      const url = new URL(authorizationUrl)
      if (login) url.searchParams.set('login', login)
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) })
      const location = res.headers.get('location')
      if (res.status !== 302 || !location) throw new Error(`plain OAuth authorize: ${res.status} ${await res.text()}`)
      return location
    },
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    res.end(JSON.stringify(body))
  }

  const same = (a: string, b: string) => { const x = Buffer.from(a); const y = Buffer.from(b); return x.length === y.length && timingSafeEqual(x, y) }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer)
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /login/oauth/authorize': {
        const q = url.searchParams
        op.seen.authorize.push(q)
        const redirectUri = q.get('redirect_uri') ?? ''
        if (q.get('client_id') !== clientId || !redirectUris.includes(redirectUri)) {
          res.writeHead(400, { 'content-type': 'text/plain' })
          res.end('The redirect_uri is not associated with this application.')
          return
        }
        const login = q.get('login') ?? 'octocat'
        const back = new URL(redirectUri)
        if (op.deny) {
          back.searchParams.set('error', 'access_denied')
          back.searchParams.set('error_description', 'The user has denied your application access.')
        } else {
          if (!op.users[login]) { res.writeHead(400); res.end('no such user'); return }
          const code = randomBytes(10).toString('hex')
          codes.set(code, { redirectUri, login, challenge: q.get('code_challenge') })
          back.searchParams.set('code', code)
        }
        if (q.has('state')) back.searchParams.set('state', q.get('state') ?? '')
        res.writeHead(302, { location: back.href })
        res.end()
        return
      }
      case 'POST /login/oauth/access_token': {
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const form = new URLSearchParams(Buffer.concat(chunks).toString())
        op.seen.token.push(form)
        let id = form.get('client_id')
        let secret = form.get('client_secret')
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
        if (basic) {
          const decoded = Buffer.from(basic, 'base64').toString()
          const colon = decoded.indexOf(':')
          id = decodeURIComponent(decoded.slice(0, colon))
          secret = decodeURIComponent(decoded.slice(colon + 1))
        }
        if (id !== clientId || secret === null || !same(secret, clientSecret)) return json(res, 401, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' })
        const code = form.get('code') ?? ''
        const pending = codes.get(code)
        codes.delete(code)
        if (!pending) return json(res, 400, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' })
        if (form.get('redirect_uri') !== pending.redirectUri) return json(res, 400, { error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.' })
        const verifier = form.get('code_verifier')
        if (pending.challenge !== null && (verifier === null || createHash('sha256').update(verifier).digest('base64url') !== pending.challenge)) {
          return json(res, 400, { error: 'bad_verification_code', error_description: 'The code_verifier does not match.' })
        }
        const token = `gho_${randomBytes(18).toString('hex')}`
        tokens.set(token, pending.login)
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' })
      }
      case 'GET /user': {
        const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
        const login = token === undefined ? undefined : tokens.get(token)
        const user = login === undefined ? undefined : op.users[login]
        if (!user) return json(res, 401, { message: 'Bad credentials' })
        return json(res, 200, { ...user })
      }
      default:
        return json(res, 404, { message: 'Not Found' })
    }
  }

  return op
}

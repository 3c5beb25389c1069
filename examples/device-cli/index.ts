/**
 * A device that signs its user in with Gatehouse's device authorization grant (RFC 8628), with nothing but `fetch`:
 * it reads the endpoints from the server metadata, starts the flow, prints the code and the URL, polls /token as
 * the answers say (slow_down adds 5 s to the interval), and prints the claims of the tokens it gets.
 *
 *   node dist/examples/device-cli/index.js --issuer http://localhost:3000 --client tv --scope "openid profile"
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

export interface DeviceSignInOptions {
  issuer: string
  clientId: string
  scope?: string
  /** Where the code and URL are shown (default: standard output). */
  show?: (text: string) => void
  /** How to wait between polls (tests pass a faster one). */
  sleep?: (seconds: number) => Promise<void>
}

export interface DeviceTokens { access_token: string, token_type: string, expires_in: number, scope?: string, refresh_token?: string, id_token?: string }

const wait = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000))

async function postForm (url: string, fields: Record<string, string>): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

/** A JWT's claims, unverified: for showing only (a program that trusts them verifies the signature against the JWKS). */
export function claimsOf (jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Runs the whole flow; resolves with the tokens once the user allowed the device, rejects when denied or expired. */
export async function deviceSignIn (options: DeviceSignInOptions): Promise<DeviceTokens> {
  const show = options.show ?? ((text: string) => console.log(text))
  const sleep = options.sleep ?? wait
  const metadataRes = await fetch(new URL('/.well-known/openid-configuration', options.issuer))
  const metadata = await metadataRes.json() as { device_authorization_endpoint?: string, token_endpoint: string }
  if (!metadata.device_authorization_endpoint) throw new Error('this server does not offer the device authorization grant')

  const started = await postForm(metadata.device_authorization_endpoint, { client_id: options.clientId, ...(options.scope ? { scope: options.scope } : {}) })
  if (started.status !== 200) throw new Error(`device authorization refused: ${String(started.body.error)} (${String(started.body.error_description)})`)
  const { device_code: deviceCode, user_code: userCode, verification_uri: uri, verification_uri_complete: complete } = started.body as Record<string, string>
  let interval = Number(started.body.interval ?? 5)
  show(`To sign in, open ${String(uri)} and enter the code ${String(userCode)}\n(or open ${String(complete)})`)

  for (;;) {
    await sleep(interval)
    const polled = await postForm(metadata.token_endpoint, { grant_type: DEVICE_GRANT, device_code: String(deviceCode), client_id: options.clientId })
    if (polled.status === 200) return polled.body as unknown as DeviceTokens
    switch (polled.body.error) {
      case 'authorization_pending': continue
      // RFC 8628 §3.5: this and every later poll waits 5 s longer.
      case 'slow_down': interval += 5; continue
      case 'access_denied': throw new Error('the sign-in was denied')
      case 'expired_token': throw new Error('the code expired before anyone entered it: start again')
      default: throw new Error(`token request refused: ${String(polled.body.error)} (${String(polled.body.error_description)})`)
    }
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      issuer: { type: 'string', default: 'http://localhost:3000' },
      client: { type: 'string', default: 'tv' },
      scope: { type: 'string', default: 'openid profile' }
    }
  })
  const tokens = await deviceSignIn({ issuer: String(values.issuer), clientId: String(values.client), scope: values.scope })
  console.log('Signed in. Access token claims:')
  console.log(JSON.stringify(claimsOf(tokens.access_token), null, 2))
  if (tokens.id_token) {
    console.log('ID token claims:')
    console.log(JSON.stringify(claimsOf(tokens.id_token), null, 2))
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  })
}

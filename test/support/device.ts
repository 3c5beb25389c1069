import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { field, InjectBrowser, PASSWORD } from './browser.js'
import { addClient, addUser, post } from './helper.js'

/** RFC 8628's grant type. */
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** alice (scope items:read) and `tv`, a public client allowed the device grant and refresh tokens. */
export async function deviceFixtures (app: FastifyInstance, extra: { scope?: string | null } = {}) {
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'items:read', fullName: 'Alice Liddell' })
  await addClient(app, 'tv', { isPublic: true, grantTypes: [DEVICE_GRANT, 'refresh_token'], scope: extra.scope ?? null })
  return { alice }
}

export interface DeviceStart { device_code: string, user_code: string, verification_uri: string, verification_uri_complete: string, expires_in: number, interval: number }

export async function startDevice (app: FastifyInstance, fields: Record<string, string> = {}): Promise<DeviceStart> {
  const res = await post(app, '/device_authorization', { client_id: 'tv', scope: 'openid profile items:read', ...fields })
  if (res.statusCode !== 200) throw new Error(`device_authorization: ${res.statusCode} ${res.body}`)
  return res.json()
}

export const pollToken = (app: FastifyInstance, deviceCode: string, clientId = 'tv') =>
  post(app, '/token', { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId })

/**
 * A person at the verification page: enters the code, signs in when asked (coming back to the page and posting the
 * code again), then answers the consent page with `decision`. Returns the last page.
 */
export async function approveOnPage (browser: InjectBrowser, userCode: string, decision: 'allow' | 'deny' = 'allow'): Promise<LightMyRequestResponse> {
  let page = await browser.get(`/device?user_code=${userCode}`)
  let res = await browser.post('/device', { user_code: userCode, csrf: field(page.body, 'csrf') })
  if (res.statusCode === 200 && res.body.includes('name="password"')) {
    const login = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
    if (login.statusCode !== 303) throw new Error(`login: ${login.statusCode}`)
    page = await browser.get(String(login.headers.location))
    res = await browser.post('/device', { user_code: userCode, csrf: field(page.body, 'csrf') })
  }
  if (!res.body.includes('name="decision"')) return res
  return browser.post('/device', { user_code: field(res.body, 'user_code'), decision, csrf: field(res.body, 'csrf') })
}

import { request } from 'node:http'

/**
 * A login flood, run as a process of its own (so its own work does not slow the measured server): `logins`
 * password sign-ins for unknown users from `addresses` distinct client addresses (127.1.x.y, bound as the
 * local address: Linux routes all of 127/8 to loopback), spread evenly over `seconds`, while one client
 * calls GET /users/me with `token` every 20 ms. Prints one JSON line: every sign-in's status and latency,
 * every /users/me latency, and when the last reply arrived.
 *
 *   node flood-driver.js URL TOKEN LOGINS ADDRESSES SECONDS
 */
const [url, token, loginsText, addressesText, secondsText] = process.argv.slice(2)
const target = new URL(url!)
const logins = Number(loginsText)
const addresses = Number(addressesText)
const seconds = Number(secondsText)

interface Reply { status: number, ms: number, retryAfter?: string }

function call (options: { method: string, path: string, headers: Record<string, string>, body?: string, localAddress?: string }): Promise<Reply> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, agent: false, ...options }, (res) => {
      res.resume()
      const retryAfter = res.headers['retry-after']
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, ...(retryAfter === undefined ? {} : { retryAfter }) }))
    })
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    req.end(options.body)
  })
}

const addressOf = (i: number) => `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`
const run = Math.random().toString(36).slice(2)
const started = performance.now()
const state = { flooding: true }
const me: Reply[] = []
const probe = (async () => {
  while (state.flooding) {
    me.push(await call({ method: 'GET', path: '/users/me', headers: { authorization: `Bearer ${token}` } }))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
})()

const pending: Array<Promise<Reply & { sentAt: number }>> = []
for (let i = 0; i < logins; i++) {
  const due = started + (i * seconds * 1000) / logins
  const wait = due - performance.now()
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
  const body = new URLSearchParams({ grant_type: 'password', username: `flood-${run}-${i}`, password: `guess-${i}` }).toString()
  const sentAt = performance.now() - started
  pending.push(call({ method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }, body, localAddress: addressOf(i % addresses) })
    .then((reply) => ({ ...reply, sentAt })))
}
const sentMs = performance.now() - started
const replies = await Promise.all(pending)
const lastReplyMs = Math.max(...replies.map((r) => r.sentAt + r.ms))
state.flooding = false
await probe
process.stdout.write(JSON.stringify({ sentMs, lastReplyMs, logins: replies, me }) + '\n')

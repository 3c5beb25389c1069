import { Agent, request } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'

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

interface Reply { status: number, ms: number, retryAfter?: string, connectMs?: number, firstByteMs?: number }

function call (options: { method: string, path: string, headers: Record<string, string>, body?: string, agent: Agent }): Promise<Reply> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, ...options }, (res) => {
      res.resume()
      const retryAfter = res.headers['retry-after']
      const firstByteMs = performance.now() - started
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, firstByteMs, ...(connectMs === undefined ? {} : { connectMs }), ...(retryAfter === undefined ? {} : { retryAfter }) }))
    })
    let connectMs: number | undefined
    req.on('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => { connectMs = performance.now() - started })
      else connectMs = 0
    })
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    req.end(options.body)
  })
}

const addressOf = (i: number) => `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`
// Keep-alive connections, a few per address (as browsers behind one address would hold): the flood measures
// the server, not connection setup in this process.
const agents = Array.from({ length: addresses }, (_, i) => new Agent({ keepAlive: true, maxSockets: 8, localAddress: addressOf(i) }))
const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 })
const run = Math.random().toString(36).slice(2)
// This process's own lag, reported so a reader can tell a slow server from a starved driver.
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()
const started = performance.now()
const state = { flooding: true }
const me: Reply[] = []
const probe = (async () => {
  while (state.flooding) {
    me.push(await call({ method: 'GET', path: '/users/me', headers: { authorization: `Bearer ${token}` }, agent: probeAgent }))
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
  pending.push(call({ method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }, body, agent: agents[i % addresses]! })
    .then((reply) => ({ ...reply, sentAt })))
}
const sentMs = performance.now() - started
const replies = await Promise.all(pending)
const lastReplyMs = Math.max(...replies.map((r) => r.sentAt + r.ms))
state.flooding = false
await probe
lag.disable()
process.stdout.write(JSON.stringify({ sentMs, lastReplyMs, driverLagMaxMs: lag.max / 1e6, logins: replies, me }) + '\n')
for (const agent of [...agents, probeAgent]) agent.destroy()

import t from 'tap'
import http from 'node:http'
import { freePort, tempDatabaseUrl } from '../support/helper.js'
import { runCli, startServer, stopServer } from '../support/server-process.js'
import { dpopKey } from '../support/dpop.js'

/**
 * RFC 9449 §11.1 with WORKERS and no Redis: a DPoP proof is accepted once per machine, whichever worker answers.
 * Real processes (a primary and four workers on one port), the same proof sent at once on many connections of
 * their own (the primary hands connections to the workers in turn): exactly one token; the workers share the
 * primary's replay memory (lib/oauth/cluster-proof-replay.ts). Before it, each worker remembered its own proofs
 * and a proof got up to one token per worker.
 */

const WORKERS = 4

interface Reply { status: number, body: string }

/** One POST /token on a connection of its own. */
function send (url: string, headers: Record<string, string>, form: Record<string, string>): Promise<Reply> {
  const body = new URLSearchParams(form).toString()
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      timeout: 30_000,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')))
    req.on('error', reject)
    req.end(body)
  })
}

async function until (what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

t.test(`WORKERS=${WORKERS} without Redis: one proof sent on many connections at once gets one token`, async (t) => {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const env = { DATABASE_URL: tempDatabaseUrl(t), ISSUER: issuer }
  const { client_secret: secret } = JSON.parse(await runCli(['clients', 'add', 'svc', '--grant', 'client_credentials'], env)) as { client_secret: string }
  // Four workers each load the whole app: on a busy two-core machine that takes longer than one server does.
  const server = await startServer({ ...env, WORKERS: String(WORKERS), LOG_LEVEL: 'info' }, port, 60_000)
  t.teardown(() => stopServer(server))
  await until(`${WORKERS} workers to listen`, () => server.output().includes(`listening with ${WORKERS} worker processes`))

  const token = `${issuer}/token`
  const authorization = `Basic ${Buffer.from(`svc:${secret}`).toString('base64')}`
  const key = await dpopKey('ES256', { url: token })
  const ROUNDS = 10
  const COPIES = 12
  for (let round = 0; round < ROUNDS; round++) {
    const proof = await key.proof()
    const replies = await Promise.all(Array.from({ length: COPIES }, () => send(token, { authorization, dpop: proof }, { grant_type: 'client_credentials' })))
    const tokens = replies.filter((r) => r.status === 200)
    const refused = replies.filter((r) => r.status === 400 && JSON.parse(r.body).error === 'invalid_dpop_proof')
    t.equal(tokens.length, 1, `round ${round}: one token of ${COPIES} copies (${replies.map((r) => r.status).join(' ')})`)
    t.equal(refused.length, COPIES - 1, 'the others invalid_dpop_proof')
    if (tokens.length === 1) t.equal(JSON.parse(tokens[0]!.body).token_type, 'DPoP')
  }
  t.equal((await send(token, { authorization, dpop: await key.proof() }, { grant_type: 'client_credentials' })).status, 200, 'a fresh proof still gets a token')

  // Every worker took part (so the one token a round was not simply one process's memory).
  const scrape = await (await fetch(`${issuer}/metrics`)).text()
  const served = new Set([...scrape.matchAll(/^gatehouse_http_requests_total\{method="POST",route="\/token",status="400",worker="(\d+)"\}/gm)].map((m) => m[1]))
  t.equal(served.size, WORKERS, `all ${WORKERS} workers refused a replay`)
})

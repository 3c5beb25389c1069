/**
 * The bench's DPoP case (RFC 9449 §7): GET /users/me with a DPoP-bound token, beside the Bearer row in the same run.
 * A proof is accepted once (its jti), so wrk sends a fresh one with each request: the proofs are made before the run,
 * one per line of a file (load.lua's BENCH_LINE_AS=dpop), for the server's one URL.
 *
 * The bound token comes from /token with a DPoP proof (once the token endpoint binds tokens); until then, from the
 * password grant's token with `cnf.jkt` added and signed again with the server's active ES256 key, read from its SQLite
 * file: the same token /token would issue.
 *
 * `node bench/dpop.mjs <base URL> <sqlite file> <bearer token> [seconds]` (a smoke run without wrk): both rows measured
 * by a closed-loop keep-alive client in this process, for a few seconds each.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Agent, request } from 'node:http'

/** The bench client's DPoP key (P-256) and its RFC 7638 thumbprint. */
export function dpopKey () {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  const jwk = { kty, crv, x, y }
  const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url')
  return { privateKey, jwk, jkt }
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** One proof for `htm` `htu` with the token's `ath`: ES256 through node:crypto (IEEE P1363 signatures, as JWS wants). */
export function dpopProof (key, htm, htu, token) {
  const ath = createHash('sha256').update(token, 'ascii').digest('base64url')
  const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })}.${b64({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath })}`
  return `${input}.${sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

/** `count` proofs, one per line of `file` (resolves with the file's path). They are valid for 120 s from now (PROOF_MAX_AGE_SECONDS). */
export async function dpopProofFile (key, htu, token, count, file) {
  const out = createWriteStream(file)
  for (let i = 0; i < count; i++) {
    if (!out.write(dpopProof(key, 'GET', htu, token) + '\n')) await new Promise((resolve) => out.once('drain', resolve))
  }
  await new Promise((resolve, reject) => out.end((err) => err ? reject(err) : resolve()))
  return file
}

/**
 * A token bound to `key`: /token's own when it binds (`token_type` DPoP), else `bearerToken` (the password grant's)
 * with `cnf.jkt` added, signed with the server's active ES256 key from its SQLite file (`Database`: better-sqlite3).
 */
export async function boundToken ({ base, key, dbPath, Database, bearerToken, tokenRequest }) {
  if (tokenRequest) {
    const reply = await tokenRequest({ dpop: dpopProof(key, 'POST', `${base}/token`, '') })
    if (reply?.token_type === 'DPoP') return reply.access_token
  }
  const [header, payload] = bearerToken.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()))
  const db = new Database(dbPath, { readonly: true })
  const row = db.prepare('SELECT private_key FROM signing_keys WHERE kid = ?').get(header.kid)
  db.close()
  if (!row?.private_key) throw new Error(`no private key for ${header.kid} in ${dbPath}`)
  const input = `${b64(header)}.${b64({ ...payload, cnf: { jkt: key.jkt } })}`
  return `${input}.${sign('sha256', Buffer.from(input), { key: createPrivateKey(row.private_key), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}

/**
 * The run.mjs case: `server` is the main Gatehouse, `bound` resolves to its bound token; the proofs are made per run,
 * enough for the best rate seen so far and a half (a first guess of 20,000/s), as the refresh case seeds its tokens.
 */
export const dpopMeCase = ({ id, label, server, key, bound, file }) => {
  let rate
  return {
    id,
    label,
    server,
    after (result) { rate = Math.max(rate ?? 0, result.rps) },
    async prepare (seconds, run) {
      const token = await bound()
      const htu = `${server.base}/users/me`
      // One request first, as every case checks: a refusal would be a cheap, wrong benchmark.
      const res = await fetch(htu, { headers: { authorization: `DPoP ${token}`, dpop: dpopProof(key, 'GET', htu, token) } })
      if (!res.ok) throw new Error(`check GET ${htu} (DPoP): ${res.status} ${await res.text()}`)
      // wrk wraps around past the file's end: those replays would count as errors, and the row would be marked so.
      const count = Math.ceil((rate ?? 20_000) * 1.5 * (seconds + 1))
      return { path: '/users/me', auth: `DPoP ${token}`, lines: await dpopProofFile(key, htu, token, count, file(run)), lineAs: 'dpop' }
    }
  }
}

/** The smoke run: `seconds` of each row through one keep-alive client with `connections` requests in flight. */
async function smoke (base, dbPath, bearer, seconds) {
  const { default: Database } = await import('better-sqlite3')
  const key = dpopKey()
  const token = await boundToken({ base, key, dbPath, Database, bearerToken: bearer })
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const get = (headers) => new Promise((resolve, reject) => {
    request(`${base}/users/me`, { agent, headers }, (res) => { res.resume().on('end', () => resolve(res.statusCode)) }).on('error', reject).end()
  })
  const row = async (label, headers) => {
    const until = Date.now() + seconds * 1000
    let ok = 0; let failed = 0
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (Date.now() < until) (await get(headers()) === 200) ? ok++ : failed++
    }))
    console.log(`| ${label} | ${Math.round(ok / seconds)} req/s | ${failed} refused |`)
  }
  await row('GET /users/me Bearer', () => ({ authorization: `Bearer ${bearer}` }))
  await row('GET /users/me with a DPoP-bound token (a fresh proof each request)', () => ({ authorization: `DPoP ${token}`, dpop: dpopProof(key, 'GET', `${base}/users/me`, token) }))
  agent.destroy()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, dbPath, bearer, seconds = '3'] = process.argv.slice(2)
  await smoke(base, dbPath, bearer, Number(seconds))
}

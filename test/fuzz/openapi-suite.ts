import type { Test } from 'tap'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, buildListening, testBackend } from '../support/helper.js'
import { OAUTH_BODY_LIMIT } from '../../plugins/oauth-endpoint.js'
import { REGISTRATION_BODY_LIMIT } from '../../lib/oauth/registration.js'
import { operationsOf, type Operation, type Schema } from './openapi-ops.js'
import { requestArb, strayRequestArb, type FuzzRequest, type GenerationContext } from './generators.js'
import { describe as describeRequest, harvest, headSize, NODE_MAX_HEADER_SIZE, oracle, sendHttp, sendInject, setUpFixtures, type Reply } from './harness.js'

/**
 * Property-based fuzzing of every operation in the OpenAPI document the app itself serves (app.swagger(),
 * not a hand-written list): ≥1,000 generated requests per operation, valid and hostile, through
 * `inject`, then a smaller pass over real HTTP. Every reply must hold the invariants in harness.ts: no 5xx,
 * a documented status and `error`, JSON errors, no-store on the OAuth endpoints, the right challenges.
 *
 * The operations are split into three files by shardOf (admin API, browser pages, the rest: OAuth, OIDC, health),
 * each a file of its own so CI runs them side by side and none nears its 600 s budget on a loaded machine:
 * openapi-admin.test.ts, openapi-browser.test.ts, openapi-api.test.ts (each also on PostgreSQL).
 *
 * Reproducing a failure. The base seed is fixed, so a plain re-run generates the same requests in the
 * same order against the same fixtures (only token values, which are random, differ):
 *   npx tsc -p tsconfig.json && npx tap dist/test/fuzz/openapi-admin.test.js   (the shard that failed)
 * A failure report prints the request in full, the operation, whether it came from the main or the stray
 * (wrong method or path) property, and fast-check's seed and `path`. To replay only that operation, and
 * only that case (enough whenever the failure depends on the request itself, the usual case):
 *   GATEHOUSE_FUZZ_ONLY='PATCH /admin/users/{username}' GATEHOUSE_FUZZ_PATH=<path> \
 *   npx tap dist/test/fuzz/openapi-admin.test.js      (add GATEHOUSE_FUZZ_SEED=<base> if it was not the default)
 * GATEHOUSE_FUZZ_SHRINK=1 lets fast-check shrink the counterexample first (slower). Then write the request
 * into test/fuzz/regressions.test.ts as a plain test, as the ones there were.
 *
 * Other knobs: GATEHOUSE_FUZZ_RUNS (requests per operation through inject, default 1000),
 * GATEHOUSE_FUZZ_HTTP_RUNS (over HTTP, default 100), GATEHOUSE_FUZZ_SEED (another base seed, for a
 * longer local hunt: any integer).
 */

const BASE_SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 0x6a7e)
const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS ?? 1000)
const HTTP_RUNS = Number(process.env.GATEHOUSE_FUZZ_HTTP_RUNS ?? 100)
const STRAY_RUNS = Math.max(10, Math.round(RUNS / 10))
/**
 * Operations whose every accepted request costs far more than a request: a key rotation generates an RSA-2048 key
 * (100-300 ms of one core) besides the ES256 one, so a thousand of them would take the run's whole time budget.
 * They get this many requests per run (still well past what their few parameters can vary).
 */
const COSTLY_RUNS: Readonly<Record<string, number>> = { rotateSigningKey: 60 }
/**
 * Operations whose success needs a fixture the generators do not hold (by operationId), and the test that reaches it:
 * here they must hold the invariants under junk like every other.
 */
const SUCCESS_ELSEWHERE: Readonly<Record<string, string>> = {
  removeUserFactor: 'test/routes/admin/factors.test.ts',
  getAsset: 'test/routes/browser/passkeys.test.ts',
  // RFC 7591: a registration is valid only when every one of its optional fields is (each generated 3 times in 10,
  // mostly valid): the generated ones rarely all are, and the per-address limit stops the run at 20 attempts over HTTP.
  registerClient: 'test/routes/register/register.test.ts',
  // RFC 7592: a client's registration access token is handed out once, to whoever registered it.
  readRegistration: 'test/routes/register/register.test.ts',
  updateRegistration: 'test/routes/register/register.test.ts',
  deleteRegistration: 'test/routes/register/register.test.ts'
}
const runsOf = (op: Operation, runs: number): number => Math.min(runs, COSTLY_RUNS[op.operationId ?? ''] ?? runs)
const ONLY = process.env.GATEHOUSE_FUZZ_ONLY
const PATH = process.env.GATEHOUSE_FUZZ_PATH
const SHRINK = process.env.GATEHOUSE_FUZZ_SHRINK === '1'

// Any unhandled rejection while the fuzzer runs fails the test (at the end of each operation's run).
const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => { unhandled.push(reason) })

/** Each operation gets its own seed derived from its id, so adding an operation does not reshuffle the others. */
function seedFor (op: Operation, salt: number): number {
  let h = 0x811c9dc5
  for (const ch of `${op.id}#${salt}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
  return (BASE_SEED ^ h) | 0
}

/** Requests aimed at the operation (`requests`) and at its wrong methods and mangled paths (`strays`), by status. */
interface Tally { requests: number, strays: number, statuses: Map<number, number> }
const tallyText = (tally: Tally) => [...tally.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')

async function fuzz (t: Test, label: string, ops: Operation[], doc: Schema, ctx: GenerationContext, runs: number, strayRuns: number, salt: number,
  send: (req: FuzzRequest) => Promise<Reply | { error: NodeJS.ErrnoException }>): Promise<Map<string, Tally>> {
  // Judged against every operation of the document: a stray request may land on another shard's route.
  const check = oracle(doc, operationsOf(doc), { http: label === 'http' })
  const tallies = new Map<string, Tally>()
  for (const op of ops) {
    if (ONLY && op.id !== ONLY) continue
    const opStarted = Date.now()
    const tally: Tally = { requests: 0, strays: 0, statuses: new Map() }
    tallies.set(op.id, tally)
    const run = async (req: FuzzRequest) => {
      const res = await send(req)
      if (req.target === 'op') tally.requests++
      else tally.strays++
      if ('error' in res) {
        // Over HTTP a body past the limit may be refused before it is all written: the socket is reset.
        if ((req.oversize || headSize(req) > NODE_MAX_HEADER_SIZE - 512) && /ECONNRESET|EPIPE/.test(res.error.code ?? '')) { tally.statuses.set(0, (tally.statuses.get(0) ?? 0) + 1); return }
        throw new Error(`transport error ${res.error.code ?? res.error.message}\n${describeRequest(req)}`)
      }
      tally.statuses.set(res.statusCode, (tally.statuses.get(res.statusCode) ?? 0) + 1)
      harvest(ctx.pools, op, res)
      const problems = check.check(op, req, res)
      if (problems.length) {
        throw new Error(`${problems.join('\n')}\nrequest: ${describeRequest(req)}\nreply: ${res.statusCode} ${JSON.stringify(res.headers)} ${res.body.slice(0, 300)}`)
      }
    }
    const seed = seedFor(op, salt)
    const params = { seed, numRuns: runsOf(op, runs), endOnFailure: !SHRINK, ...(PATH ? { path: PATH } : {}) }
    const main = await fc.check(fc.asyncProperty(requestArb(op, ctx), run), params)
    const strays = strayRuns > 0 ? await fc.check(fc.asyncProperty(strayRequestArb(op, ops, ctx), run), { ...params, numRuns: strayRuns, seed: seed + 1 }) : undefined
    for (const [property, details] of [['main', main], ['stray', strays]] as const) {
      if (!details?.failed) continue
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
      t.fail(`${label} ${op.id} (${property} property): failed after ${details.numRuns} requests; fast-check seed ${details.seed}, path "${details.counterexamplePath}"\n${error}`)
    }
    t.ok(!main.failed && !strays?.failed, `${label} ${op.id}: every reply holds the invariants`)
    t.comment(`${label} ${op.id}: ${tally.requests} requests (+${tally.strays} stray) in ${((Date.now() - opStarted) / 1000).toFixed(1)} s (seed ${seed}), statuses ${tallyText(tally)}`)
    t.same(unhandled.splice(0).map(String), [], `${label} ${op.id}: no unhandled rejection`)
  }
  return tallies
}

/**
 * The import's own limit (IMPORT_MAX_BYTES, 64 MiB by default), lowered to Fastify's 1 MiB so oversize bodies stay cheap to make;
 * dynamic registration open, so that /register is fuzzed past its 404 (its per-address limit then answers most with 429).
 */
const FUZZ_ENV = { IMPORT_MAX_BYTES: String(1024 * 1024), REGISTRATION: 'open' }

/** The messages the admin's password resets queue, written as files into a folder of the test's own (never data/outbox). */
function fuzzEnv (t: Test): Record<string, string> {
  const mailDir = mkdtempSync(join(tmpdir(), 'gatehouse-fuzz-mail-'))
  t.teardown(() => rmSync(mailDir, { recursive: true, force: true }))
  return { ...FUZZ_ENV, MAIL_DIR: mailDir }
}

function contextFor (app: { initialConfig: { bodyLimit?: number }, config: { importMaxBytes: number } }, pools: GenerationContext['pools']): GenerationContext {
  const OAUTH = new Set(['/token', '/revoke', '/introspect'])
  return {
    pools,
    bodyLimit: (op) => OAUTH.has(op.path) ? OAUTH_BODY_LIMIT : op.path.startsWith('/register') ? REGISTRATION_BODY_LIMIT : op.path === '/admin/users/import' ? app.config.importMaxBytes : app.initialConfig.bodyLimit ?? 1024 * 1024
  }
}

/** Which file fuzzes an operation: every operation is in exactly one. */
export type Shard = 'admin' | 'browser' | 'api'
export const shardOf = (op: Operation): Shard => op.path.startsWith('/admin/') ? 'admin' : op.htmlResponses.size > 0 ? 'browser' : 'api'

/** The operations of `shard`, through inject then over real HTTP. */
export function fuzzShard (t: Test, shard: Shard): void {
  t.test(`fuzz the ${shard} operations of the OpenAPI document through inject (${testBackend})`, async (t) => {
    const started = Date.now()
    const app = await build(t, fuzzEnv(t))
    const doc = app.swagger() as Schema
    const all = operationsOf(doc)
    const ops = all.filter((op) => shardOf(op) === shard)
    t.ok(all.length >= 18 && ops.length >= 1, `${ops.length} of the document's ${all.length} operations in this shard`)
    // A costly operation renamed would quietly get the full count again (as 'POST /admin/keys/rotate' once did: 110 s).
    for (const name of Object.keys(COSTLY_RUNS)) t.ok(all.some((op) => op.operationId === name), `the costly operation ${name} is in the document`)
    const pools = await setUpFixtures(app)
    // The fixture providers name an issuer nobody serves, where /login/{name} answers 502. In one file the admin
    // operations ran first and removed them (DELETE /admin/providers); the browser shard removes them itself.
    if (shard === 'browser') for (const name of pools.victimProviders) await app.storage.providers.delete(name)
    const tallies = await fuzz(t, 'inject', ops, doc, contextFor(app, pools), RUNS, STRAY_RUNS, 0, (req) => sendInject(app, req))

    // The run reached the success paths too (not only the error paths).
    // The browser pages are the exception: their success needs a browser's state (the CSRF cookie, a session, a
    // pending authorization request), which test/routes/browser/flow.test.ts and test/security/a-authorization-endpoint.test.ts drive;
    // here they must hold the invariants (no 5xx, documented statuses, HTML pages with their headers) under junk.
    const browserOps = new Set(ops.filter((op) => op.htmlResponses.size > 0).map((op) => op.id))
    for (const [id, tally] of tallies) {
      const main = [...tally.statuses].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0)
      const op = ops.find((o) => o.id === id)!
      if (!browserOps.has(id) && SUCCESS_ELSEWHERE[op.operationId ?? ''] === undefined) t.ok(main > 0, `${id}: at least one 2xx among ${tally.requests}`)
      const wanted = runsOf(ops.find((op) => op.id === id)!, RUNS)
      if (!ONLY && !PATH) t.ok(tally.requests >= wanted, `${id}: ≥${wanted} requests`)
    }
    const total = [...tallies.values()].reduce((n, x) => n + x.requests + x.strays, 0)
    t.comment(`inject: ${total} requests over ${tallies.size} operations in ${((Date.now() - started) / 1000).toFixed(1)} s; base seed ${BASE_SEED}, ${RUNS} per operation (+${STRAY_RUNS} to wrong methods and paths)`)
  })

  t.test(`fuzz the ${shard} operations of the OpenAPI document over real HTTP (${testBackend})`, async (t) => {
    const started = Date.now()
    const { app, url } = await buildListening(t, fuzzEnv(t))
    const doc = app.swagger() as Schema
    const ops = operationsOf(doc).filter((op) => shardOf(op) === shard)
    const pools = await setUpFixtures(app)
    // The fixture providers name an issuer nobody serves, where /login/{name} answers 502. In one file the admin
    // operations ran first and removed them (DELETE /admin/providers); the browser shard removes them itself.
    if (shard === 'browser') for (const name of pools.victimProviders) await app.storage.providers.delete(name)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => agent.destroy())
    // A body over the limit, or a head over Node's limit (431), may get its socket closed under it: such
    // requests go on a connection of their own, so the next request does not inherit a dying socket.
    const alone = (req: FuzzRequest) => req.oversize || headSize(req) > NODE_MAX_HEADER_SIZE - 512
    const tallies = await fuzz(t, 'http', ops, doc, contextFor(app, pools), HTTP_RUNS, Math.round(HTTP_RUNS / 10), 1,
      (req) => sendHttp(url, alone(req) ? new Agent({ keepAlive: false }) : agent, req))
    const total = [...tallies.values()].reduce((n, x) => n + x.requests + x.strays, 0)
    t.comment(`http: ${total} requests over ${tallies.size} operations in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
}

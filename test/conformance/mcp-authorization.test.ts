import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { openBrowser, withoutChromium } from '../support/chromium.js'
import { addClient, addUser, buildListening, freePort } from '../support/helper.js'
import { collectChild, spawnNode } from '../support/oauth.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'

// The MCP project's conformance package (@modelcontextprotocol/conformance, pinned in package.json) run against
// Gatehouse as its README says: `conformance authorization --url <issuer> --client-id … --resource … -p <port>`,
// as a child process, every authorization-server scenario in one run (authorization-code-grant reads the metadata
// the first scenario fetched: alone, it fails "Invalid authorization server metadata"). Its browser step is
// Chromium: the package prints an authorization URL and waits for the browser at http://127.0.0.1:<port>/callback.
// Then every check it wrote (checks.json, one folder per scenario) must be SUCCESS, but for the entries below.

const PASSWORD = 'correct horse battery staple'
const PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'))
const CONFORMANCE = join(PACKAGE_DIR, 'dist', 'index.js')
// The package is built for Node 22 (it imports fs.globSync); this hook lets it run on Node 20 (see its comment).
const NODE20_FS = join(import.meta.dirname, '..', 'support', 'node20-fs', 'register.js')
const SCENARIOS = ['authorization-server-metadata-endpoint', 'authorization-code-grant']

/**
 * Checks that are not SUCCESS, each with the status it has and why: the package's expected-failures baseline
 * (its `--expected-failures` file, which its `authorization` command does not take), kept here instead. Each entry
 * is asserted exactly: a check that starts to pass, or fails differently, fails this test until the entry goes.
 */
interface Expected { status: 'WARNING' | 'FAILURE', message: RegExp, why: string }
// Gatehouse runs with REGISTRATION=open and CLIENT_ID_METADATA_DOCUMENTS=on, as an MCP deployment would: the
// metadata check for Client ID Metadata Documents (a SHOULD of MCP 2025-11-25) must then be a SUCCESS too.
const EXPECTED_EVERYWHERE: Record<string, Expected> = {}
const EXPECTED_CONFIDENTIAL: Record<string, Expected> = {
  'authorization-code-grant': {
    status: 'FAILURE',
    message: /^Invalid status code: 401$/,
    why: 'The package (0.2.0-alpha.12, selectTokenAuthMethod) authenticates with `none` whenever the metadata lists ' +
      '`none` in token_endpoint_auth_methods_supported, even when it was given a --client-secret: it sends the code ' +
      'of a confidential client with its client_id alone. Gatehouse lists `none` for its public clients and must ' +
      'refuse a confidential client that does not authenticate (RFC 6749 §3.2.1): invalid_client, 401. The test ' +
      'checks that this is the refusal, and the confidential client\'s own grant is tested in test/routes/token/.'
  }
}

interface Check { id: string, name: string, status: string, errorMessage?: string }

/** Every check of a run: the checks.json of each scenario's folder under `outputDir`. */
function readChecks (outputDir: string): Map<string, Check[]> {
  const byScenario = new Map<string, Check[]>()
  for (const folder of readdirSync(outputDir)) {
    const scenario = SCENARIOS.find((name) => folder.startsWith(`authorization-server-${name}-`))
    if (scenario === undefined) continue
    byScenario.set(scenario, JSON.parse(readFileSync(join(outputDir, folder, 'checks.json'), 'utf8')) as Check[])
  }
  return byScenario
}

/** The first line `stream` prints that `wanted` accepts (read alongside collectChild, which keeps its own copy). */
function firstLine (stream: Readable, wanted: (line: string) => boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    let pending = ''
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      const found = lines.find(wanted)
      if (found !== undefined) { stream.off('data', onData); resolve(found) }
    }
    stream.on('data', onData)
    stream.once('end', () => resolve(undefined))
  })
}

async function setUp (t: Test) {
  const { app, url: issuer } = await buildListening(t, { REGISTRATION: 'open', CLIENT_ID_METADATA_DOCUMENTS: 'on' })
  await addUser(app, 'alice', PASSWORD)
  const port = await freePort()
  const redirectUri = `http://127.0.0.1:${port}/callback`
  const resource = 'https://mcp.conformance.test/mcp'
  await app.storage.resources.create({ uri: resource, name: 'Conformance MCP server', scope: 'mcp:tools' })
  return { app, issuer, port, redirectUri, resource }
}

/**
 * Runs every authorization-server scenario for `clientId`, plays the person in Chromium when the package prints
 * its authorization URL (sign in, allow), and returns the checks and what the package printed.
 */
async function runConformance (t: Test, options: { issuer: string, port: number, resource: string, clientId: string, clientSecret?: string }) {
  const outputDir = mkdtempSync(join(tmpdir(), 'gatehouse-mcp-conformance-'))
  t.teardown(() => rmSync(outputDir, { recursive: true, force: true }))
  const args = ['--import', NODE20_FS, CONFORMANCE, 'authorization', '--url', options.issuer, '--client-id', options.clientId,
    ...(options.clientSecret === undefined ? [] : ['--client-secret', options.clientSecret]),
    '--resource', options.resource, '-p', String(options.port), '-o', outputDir]
  const child = spawnNode(args, { PATH: process.env.PATH ?? '' })
  const finished = collectChild(child, 50_000)
  // The package prints the URL on a line of its own, then waits (5 minutes) for the browser at its callback.
  // Listening from the start: the line may come before Chromium is up.
  const authorize = `${options.issuer}/authorize?`
  const printed = firstLine(child.stdout!, (l) => l.startsWith(authorize))
  const { page, problems } = await openBrowser(t)
  const line = await Promise.race([printed, finished.then(() => undefined)])
  const asked = line === undefined ? undefined : new URL(line)
  if (asked !== undefined) {
    t.equal(asked.searchParams.get('code_challenge_method'), 'S256', 'the package asks with PKCE')
    t.equal(asked.searchParams.get('resource'), options.resource, 'for the MCP server (RFC 8707)')
    // The package's callback server closes once it has its answer: Chromium's own request for the favicon would
    // then be refused (a console error that is no page's fault).
    await page.route(`http://127.0.0.1:${options.port}/favicon.ico`, (route) => route.fulfill({ status: 204 }))
    try {
      await page.goto(asked.href)
      await page.getByLabel('Username').fill('alice', { timeout: 20_000 })
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.getByRole('button', { name: 'Allow' }).click({ timeout: 20_000 })
      await page.waitForURL((landed) => landed.pathname === '/callback', { timeout: 20_000 })
    } catch (err) {
      t.fail(`the browser step: ${(err as Error).message.split('\n')[0]} at ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 500)}`)
      child.kill()
    }
  } else {
    t.fail('the package printed no authorization URL')
  }
  const run = await finished
  t.same(problems, [], 'no console errors or CSP refusals in Gatehouse\'s pages')
  return { run, checks: readChecks(outputDir) }
}

/** Every check SUCCESS, but for the expected ones, which must be exactly as expected. */
function judge (t: Test, checks: Map<string, Check[]>, expected: Record<string, Expected>) {
  t.same([...checks.keys()].sort(), [...SCENARIOS].sort(), 'every authorization-server scenario ran and wrote its checks')
  for (const [scenario, list] of checks) {
    t.ok(list.length > 0, `${scenario}: has checks`)
    for (const check of list) {
      const known = expected[check.id]
      if (known === undefined) {
        t.equal(check.status, 'SUCCESS', `${scenario} / ${check.id}${check.errorMessage === undefined ? '' : `: ${check.errorMessage}`}`)
      } else {
        t.equal(check.status, known.status, `${scenario} / ${check.id} is ${known.status}, as expected: ${known.why}`)
        t.match(check.errorMessage ?? '', known.message, `${scenario} / ${check.id}: the expected message`)
      }
    }
  }
}

/** Gatehouse's own count (GET /metrics) of `name` with `labels`: what it did on its side of the package's run. */
async function metric (app: FastifyInstance, name: string, labels: Record<string, string>): Promise<number> {
  return sampleValue(parseExposition((await app.inject({ url: '/metrics' })).body), name, labels) ?? 0
}

t.test('MCP conformance, authorization-server scenarios: a public client (PKCE, no secret)', { skip: withoutChromium }, async (t) => {
  const { app, issuer, port, redirectUri, resource } = await setUp(t)
  await addClient(app, 'mcp-conformance-public', { isPublic: true, grantTypes: ['authorization_code'], redirectUris: [redirectUri] })
  const { run, checks } = await runConformance(t, { issuer, port, resource, clientId: 'mcp-conformance-public' })
  judge(t, checks, EXPECTED_EVERYWHERE)
  t.equal(await metric(app, 'gatehouse_tokens_issued_total', { grant_type: 'authorization_code', client_id: 'mcp-conformance-public' }), 1,
    'Gatehouse issued the token the package asked for')
  t.equal(run.code, 0, `the package exits 0 (no failed check)${run.code === 0 ? '' : `\n${run.stdout}\n${run.stderr}`}`)
})

t.test('MCP conformance, authorization-server scenarios: a confidential client (with a secret)', { skip: withoutChromium }, async (t) => {
  const { app, issuer, port, redirectUri, resource } = await setUp(t)
  const secret = await addClient(app, 'mcp-conformance-confidential', { grantTypes: ['authorization_code'], redirectUris: [redirectUri] })
  const { run, checks } = await runConformance(t, { issuer, port, resource, clientId: 'mcp-conformance-confidential', clientSecret: secret! })
  judge(t, checks, { ...EXPECTED_EVERYWHERE, ...EXPECTED_CONFIDENTIAL })
  t.equal(await metric(app, 'gatehouse_http_errors_total', { route: '/token', error: 'invalid_client' }), 1,
    'the 401 was Gatehouse refusing an unauthenticated confidential client (invalid_client)')
  t.equal(await metric(app, 'gatehouse_tokens_issued_total', { grant_type: 'authorization_code', client_id: 'mcp-conformance-confidential' }), 0, 'and no token')
  t.equal(run.code, 1, 'the package exits 1: its one expected failure')
})

import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { buildMcpServer } from '../../examples/mcp-server/server.js'
import { appCallbackUrl, openBrowser, withoutChromium } from '../support/chromium.js'
import { addUser, build, freePort } from '../support/helper.js'
import { selfSignedCertificate } from '../support/tls.js'
import { createServer } from 'node:https'

// The acceptance of MCP authorization: the official MCP TypeScript SDK's client, with its OAuth client provider,
// meets the example MCP server knowing only its URL, finds Gatehouse through the server's protected resource
// metadata (RFC 9728), registers itself, sends the person to Gatehouse in Chromium (login, consent), gets a token
// for that one server (RFC 8707) and calls a tool with it.

const PASSWORD = 'correct horse battery staple'

/** The SDK's OAuthClientProvider as an MCP host implements it: memory for what it learns, Chromium for the person. */
class BrowserProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined
  #tokens: OAuthTokens | undefined
  #verifier = ''
  authorizationUrl: URL | undefined
  registrations = 0

  constructor (readonly redirectUri: string, readonly clientMetadataUrl?: string) {}

  get redirectUrl (): string { return this.redirectUri }
  get clientMetadata (): OAuthClientMetadata {
    return { client_name: 'MCP test host', redirect_uris: [this.redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }
  }

  clientInformation () { return this.#client }
  saveClientInformation (info: OAuthClientInformationMixed) { this.registrations++; this.#client = info }
  tokens () { return this.#tokens }
  saveTokens (tokens: OAuthTokens) { this.#tokens = tokens }
  redirectToAuthorization (url: URL) { this.authorizationUrl = url }
  saveCodeVerifier (verifier: string) { this.#verifier = verifier }
  codeVerifier () { return this.#verifier }
}

/** The person's part: Gatehouse's login page, then its consent page, which must show the client as not verified. */
async function signInAndAllow (t: Test, page: Page, url: URL): Promise<string> {
  await page.goto(url.href)
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('button', { name: 'Allow' }).waitFor()
  const consent = await page.content()
  t.match(consent, /MCP test host/, 'the consent page names the client')
  t.match(consent, /[Nn]ot verified/, 'marked as not verified')
  t.match(consent, /Gatehouse example MCP server/, 'and the API it asks for')
  await page.getByRole('button', { name: 'Allow' }).click()
  await page.waitForURL((landed) => landed.pathname === '/cb')
  const landed = new URL(page.url())
  t.notOk(landed.searchParams.get('error'), `no error at the callback (${landed.searchParams.get('error_description') ?? ''})`)
  return landed.searchParams.get('code')!
}

async function setUp (t: Test, env: Record<string, string>, documentFetchCa?: string) {
  const gatehousePort = await freePort()
  const issuer = `http://127.0.0.1:${gatehousePort}`
  const app = await build(t, { ISSUER: issuer, ...env }, documentFetchCa === undefined ? {} : { documentFetchCa })
  await app.listen({ host: '127.0.0.1', port: gatehousePort })
  const alice = await addUser(app, 'alice', PASSWORD)
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  await app.storage.resources.create({ uri: resource, name: 'Gatehouse example MCP server', scope: 'mcp:tools notes:read' })
  const mcp = await buildMcpServer({ issuer, resource })
  t.teardown(() => mcp.close())
  await mcp.listen({ host: '127.0.0.1', port })
  return { app, issuer, alice, resource }
}

/** Connects the SDK's client to the MCP server with `provider`; the first attempt sends the person to Gatehouse. */
async function connectThroughGatehouse (t: Test, page: Page, resource: string, provider: BrowserProvider): Promise<Client> {
  const first = new Client({ name: 'mcp-test-host', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider })
  await t.rejects(first.connect(transport), { message: /Unauthorized/ }, 'the first connection needs the person: the SDK stops at the authorization URL')
  t.ok(provider.authorizationUrl, 'and hands the host an authorization URL on Gatehouse')
  const asked = provider.authorizationUrl!
  t.equal(asked.searchParams.get('resource'), resource, 'the SDK asks for this MCP server (RFC 8707 resource)')
  t.equal(asked.searchParams.get('code_challenge_method'), 'S256', 'with PKCE')
  const code = await signInAndAllow(t, page, asked)
  await transport.finishAuth(code)
  const client = new Client({ name: 'mcp-test-host', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }))
  t.teardown(() => client.close())
  return client
}

t.test('MCP: the SDK client discovers Gatehouse from the MCP server, registers dynamically (RFC 7591), signs the person in through Chromium, calls the tool', { skip: withoutChromium }, async (t) => {
  const { issuer, alice, resource } = await setUp(t, { REGISTRATION: 'open' })
  const { page, problems } = await openBrowser(t)
  const provider = new BrowserProvider(await appCallbackUrl(t))
  const client = await connectThroughGatehouse(t, page, resource, provider)
  t.equal(provider.registrations, 1, 'the SDK registered a client at Gatehouse\'s registration_endpoint')
  t.match(provider.clientInformation()?.client_id, /\S/, 'and got a client_id')

  const tools = await client.listTools()
  t.same(tools.tools.map((tool) => tool.name).sort(), ['notes', 'whoami'])
  const whoami = await client.callTool({ name: 'whoami', arguments: {} }) as { content: Array<{ text: string }> }
  t.match(whoami.content[0]!.text, `You are ${alice.id}, through the client ${provider.clientInformation()!.client_id}`, 'the tool sees the person and the registered client')
  const token = provider.tokens()!.access_token
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string, iss: string, scope: string }
  t.equal(claims.aud, resource, 'the token is for this MCP server alone')
  t.equal(claims.iss, issuer)
  t.same(claims.scope.split(' ').sort(), ['mcp:tools', 'notes:read'], 'with the scopes the server publishes')
  const notes = await client.callTool({ name: 'notes', arguments: {} }) as { isError?: boolean }
  t.notOk(notes.isError, 'the scoped tool works too')
  const elsewhere = await fetch(`${issuer}/users/me`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(elsewhere.status, 401, 'the MCP server\'s token is refused by Gatehouse\'s own API (aud)')
  t.same(problems, [], 'no console errors or CSP refusals in the pages')
})

t.test('MCP: the SDK client uses its Client ID Metadata Document (an https client_id), signs the person in through Chromium, calls the tool; nothing is registered', { skip: withoutChromium }, async (t) => {
  // The MCP host's document, on its own HTTPS origin (a self-signed certificate the test's Gatehouse trusts; in
  // production the host's real one, and Gatehouse refuses private and loopback addresses unless it is on loopback).
  const tls = selfSignedCertificate(t)
  const callback = await appCallbackUrl(t)
  let fetched = 0
  const documents = createServer(tls, (req, res) => {
    if (req.url !== '/mcp-host/client.json') { res.statusCode = 404; res.end(); return }
    fetched++
    res.setHeader('content-type', 'application/json')
    res.setHeader('cache-control', 'max-age=3600')
    res.end(JSON.stringify({ client_id: clientId, client_name: 'MCP test host', redirect_uris: [callback], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }))
  })
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => documents.close(() => resolve())))
  const clientId = `https://127.0.0.1:${(documents.address() as { port: number }).port}/mcp-host/client.json`

  const { app, issuer, alice, resource } = await setUp(t, { CLIENT_ID_METADATA_DOCUMENTS: 'on' }, tls.cert)
  const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
  t.equal(metadata.client_id_metadata_document_supported, true, 'Gatehouse says it takes Client ID Metadata Documents')
  t.notOk(metadata.registration_endpoint, 'and offers no registration here (REGISTRATION is off)')
  const { page, problems } = await openBrowser(t)
  const provider = new BrowserProvider(callback, clientId)
  const client = await connectThroughGatehouse(t, page, resource, provider)
  t.equal(provider.clientInformation()?.client_id, clientId, 'the SDK registered nothing (REGISTRATION is off): its client_id is its document\'s URL')
  t.equal(provider.authorizationUrl?.searchParams.get('client_id'), clientId, 'the authorization request named the document')
  t.ok(fetched >= 1, `Gatehouse fetched the document (${fetched} times)`)

  const whoami = await client.callTool({ name: 'whoami', arguments: {} }) as { content: Array<{ text: string }> }
  t.equal(whoami.content[0]!.text, `You are ${alice.id}, through the client ${clientId}, with the scopes: mcp:tools notes:read`, 'the tool sees the person and the document client')
  const claims = JSON.parse(Buffer.from(provider.tokens()!.access_token.split('.')[1]!, 'base64url').toString()) as { aud: string }
  t.equal(claims.aud, resource, 'the token is for this MCP server alone')
  t.equal((await app.storage.clients.find(clientId))?.registration, 'cimd', 'Gatehouse keeps the document client as such (an admin sees and removes it)')
  t.same(problems, [], 'no console errors or CSP refusals in the pages')
})

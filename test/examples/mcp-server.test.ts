import t from 'tap'
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { buildMcpServer } from '../../examples/mcp-server/server.js'
import { buildListening, freePort } from '../support/helper.js'
import { DPOP_SIGNING_ALGS } from '../../lib/oauth/dpop-proof.js'

// examples/mcp-server: the MCP TypeScript SDK's own client against the example server, with tokens signed by a
// real Gatehouse's key (the whole OAuth dance, discovery and registration included, is test/e2e/mcp.test.ts).

t.test('the example MCP server: the SDK client lists and calls its tools with a token for its resource; 401 with resource_metadata without one, 403 without mcp:tools', async (t) => {
  const { app, url: issuer } = await buildListening(t)
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const mcp = await buildMcpServer({ issuer, resource })
  t.teardown(() => mcp.close())
  await mcp.listen({ host: '127.0.0.1', port })
  const active = app.signingKeys.current().active
  const token = async (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: issuer, sub: 'alice-sub', aud: resource, exp: now + 300, iat: now, jti: randomUUID(), client_id: 'claude', scope: 'mcp:tools notes:read', ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: active.kid }).sign(active.privateKey)
  }
  const connect = async (accessToken: string) => {
    const client = new Client({ name: 'test-client', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } })
    await client.connect(transport)
    t.teardown(() => client.close())
    return client
  }

  const client = await connect(await token({}))
  const tools = await client.listTools()
  t.same(tools.tools.map((tool) => tool.name).sort(), ['notes', 'whoami'], 'the tools are listed')
  const whoami = await client.callTool({ name: 'whoami', arguments: {} }) as { content: Array<{ text: string }> }
  t.equal(whoami.content[0]!.text, 'You are alice-sub, through the client claude, with the scopes: mcp:tools notes:read', 'the tool sees the caller\'s identity and scopes')
  const notes = await client.callTool({ name: 'notes', arguments: {} }) as { isError?: boolean, content: Array<{ text: string }> }
  t.notOk(notes.isError, 'notes:read: the notes')
  const narrow = await connect(await token({ scope: 'mcp:tools' }))
  const refused = await narrow.callTool({ name: 'notes', arguments: {} }) as { isError?: boolean, content: Array<{ text: string }> }
  t.ok(refused.isError, 'without notes:read the tool answers an error')
  t.match(refused.content[0]!.text, /notes:read/)

  const bare = await fetch(resource, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
  t.equal(bare.status, 401, 'no token: 401')
  t.equal(bare.headers.get('www-authenticate'), `Bearer realm="${resource}", resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp"`, 'naming the protected resource metadata')
  const metadata = await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)).json()
  t.same(metadata, { resource, authorization_servers: [issuer], scopes_supported: ['mcp:tools', 'notes:read'], bearer_methods_supported: ['header', 'body'], resource_name: 'Gatehouse example MCP server', dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS] }, 'which names Gatehouse')
  const noTools = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${await token({ scope: 'notes:read' })}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
  t.equal(noTools.status, 403, 'without mcp:tools: 403')
  t.match(noTools.headers.get('www-authenticate'), /error="insufficient_scope", .*scope="mcp:tools"/, 'naming the scope to ask for')
  const otherAudience = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${await token({ aud: issuer })}`, 'content-type': 'application/json' }, body: '{}' })
  t.equal(otherAudience.status, 401, 'a token for Gatehouse itself (aud = the issuer): 401')
  t.equal((await fetch(resource)).status, 405, 'GET: 405 (stateless, no server-to-client stream)')
})

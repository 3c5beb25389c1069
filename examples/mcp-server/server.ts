import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
// In your own service: import gatehouseAuth from '@gatehouse/resource-server' (packages/resource-server).
import gatehouseAuth from '../../resource-server/index.js'

/**
 * An MCP server protected by Gatehouse: the MCP TypeScript SDK's Streamable HTTP transport behind the
 * resource-server plugin. The plugin verifies the caller's access token (aud = this server's resource URI) and
 * serves the RFC 9728 metadata an MCP client starts from; the tools see who is calling through `authInfo`.
 *
 * Scopes: `mcp:tools` to reach the server at all (checked per request, 403 insufficient_scope otherwise, which
 * tells the client what to ask for), `notes:read` for the notes tool (checked inside it: a tool error).
 */
export interface McpServerOptions {
  /** Gatehouse's ISSUER. */
  issuer: string
  /** This server's resource URI, e.g. https://mcp.example.com/mcp; its path is where MCP is served. */
  resource: string
}

export const SCOPES = ['mcp:tools', 'notes:read'] as const

const NOTES = ['Ship the device flow', 'Rotate the signing keys on Monday']

/** The identity the plugin verified, in the shape the MCP SDK hands to tools (`extra.authInfo`). */
function authInfoOf (request: FastifyRequest, resource: string): AuthInfo {
  const claims = request.user
  return {
    token: request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '',
    clientId: String(claims.client_id),
    scopes: (claims.scope ?? '').split(' ').filter(Boolean),
    expiresAt: claims.exp,
    resource: new URL(resource),
    extra: { sub: claims.sub }
  }
}

/** One MCP server per request: the stateless Streamable HTTP mode (no session to keep across instances). */
function mcpServer (): McpServer {
  const server = new McpServer({ name: 'gatehouse-example', version: '1.0.0' })
  server.registerTool('whoami', {
    title: 'Who am I',
    description: 'Tells who the caller is, according to the access token Gatehouse issued: user, client and scopes.'
  }, async (extra) => {
    const auth = extra.authInfo!
    return { content: [{ type: 'text', text: `You are ${String(auth.extra?.sub)}, through the client ${auth.clientId}, with the scopes: ${auth.scopes.join(' ')}` }] }
  })
  server.registerTool('notes', {
    title: 'Notes',
    description: 'Lists the team\'s notes (needs the scope notes:read).'
  }, async (extra) => {
    if (!extra.authInfo?.scopes.includes('notes:read')) {
      return { isError: true, content: [{ type: 'text', text: 'This tool needs the scope notes:read: sign in again and allow it.' }] }
    }
    return { content: NOTES.map((text) => ({ type: 'text' as const, text })) }
  })
  return server
}

export async function buildMcpServer (options: McpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(gatehouseAuth, { issuer: options.issuer, resource: options.resource, scopes: SCOPES, resourceName: 'Gatehouse example MCP server' })
  const path = new URL(options.resource).pathname
  app.post(path, { onRequest: [app.authenticate, app.requireScope('mcp:tools')] }, async (request, reply) => {
    const server = mcpServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    reply.raw.on('close', () => { transport.close().catch(() => {}); server.close().catch(() => {}) })
    await server.connect(transport)
    reply.hijack()
    const raw = Object.assign(request.raw, { auth: authInfoOf(request, options.resource) })
    await transport.handleRequest(raw, reply.raw, request.body)
  })
  // Stateless: no server-to-client stream and no session to end (MCP Streamable HTTP, "405 Method Not Allowed").
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({ method, url: path, handler: async (_request, reply) => reply.code(405).header('allow', 'POST').send({ error: 'method_not_allowed' }) })
  }
  return app
}

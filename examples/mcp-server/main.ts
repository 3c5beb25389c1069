import { buildMcpServer } from './server.js'

/**
 * Runs the example MCP server: GATEHOUSE_ISSUER (default http://localhost:3000, Gatehouse's own default ISSUER) and MCP_RESOURCE (default
 * http://127.0.0.1:3001/mcp, which is also where it listens). See README.md.
 */
const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:3000'
const resource = process.env.MCP_RESOURCE ?? 'http://127.0.0.1:3001/mcp'
const url = new URL(resource)
const app = await buildMcpServer({ issuer, resource })
await app.listen({ host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) })
process.stdout.write(`MCP server for ${resource}, tokens from ${issuer}\n`)

import type { ResolveHook } from 'node:module'
import * as fs from 'node:fs'

// The MCP conformance package (@modelcontextprotocol/conformance, a devDependency run as a child process by
// test/conformance/mcp-authorization.test.ts) is built for Node 22: its one bundle imports `globSync` from 'fs',
// which Node 20 does not have, so on Node 20 the import fails at link time ("does not provide an export named
// 'globSync'") before any scenario runs. We run Node 20 and do not patch node_modules (npm ci would undo it), so
// this resolve hook, installed by register.ts, hands that package (and only it) globsync-shim.ts instead of
// 'fs': node:fs unchanged plus a globSync. On a Node that has fs.globSync the hook changes nothing.

const PACKAGE = '/node_modules/@modelcontextprotocol/conformance/'
const SHIM = new URL('./globsync-shim.js', import.meta.url).href
const needed = typeof (fs as { globSync?: unknown }).globSync !== 'function'

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (needed && (specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes(PACKAGE) === true) {
    return { url: SHIM, shortCircuit: true }
  }
  return nextResolve(specifier, context)
}

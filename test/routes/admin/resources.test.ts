import t from 'tap'
import { addUser, build, post } from '../../support/helper.js'

// /admin/resources (RFC 8707 resources): list, register, remove, with scope admin; the rules alone are
// test/lib/oauth/resources.test.ts, the CLI's `gatehouse resources` test/cli/resources.test.ts.

t.test('register, list, remove; bad input is 400, a second registration 409, an unknown URI 404; admins only', async (t) => {
  const app = await build(t)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  await addUser(app, 'plain', 'pw', { scope: 'read' })
  const token = async (username: string) => (await post(app, '/token', { grant_type: 'password', username, password: 'pw' })).json().access_token as string
  const admin = { authorization: `Bearer ${await token('root')}` }
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers = admin) => app.inject({ method, url, headers, ...(payload ? { payload } : {}) })

  const created = await call('POST', '/admin/resources', { uri: 'https://mcp.example.test/mcp', name: 'Example MCP', scope: 'mcp:tools  mcp:prompts' })
  t.equal(created.statusCode, 201, created.body)
  t.same(Object.keys(created.json()).sort(), ['created_at', 'name', 'scope', 'uri'])
  t.match(created.json(), { uri: 'https://mcp.example.test/mcp', name: 'Example MCP', scope: 'mcp:tools mcp:prompts' })
  t.equal((await call('POST', '/admin/resources', { uri: 'http://localhost:3000/mcp' })).json().name, null, 'a name is optional')

  t.equal((await call('POST', '/admin/resources', { uri: 'https://mcp.example.test/mcp' })).statusCode, 409)
  for (const body of [
    { uri: 'http://mcp.example.test/mcp' }, { uri: 'https://mcp.example.test/#x' }, { uri: 'mcp' }, { uri: app.config.audience },
    { uri: 'https://x.example.test', scope: 'openid' }, { uri: 'https://x.example.test', name: 'a\u202eb' }, { uri: 'https://x.example.test', extra: 1 }
  ]) {
    const res = await call('POST', '/admin/resources', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error, 'invalid_request')
  }

  const listed = await call('GET', '/admin/resources')
  t.same(listed.json().map((r: { uri: string }) => r.uri), ['http://localhost:3000/mcp', 'https://mcp.example.test/mcp'])
  t.equal((await call('GET', '/admin/resources?limit=1&offset=1')).json()[0].uri, 'https://mcp.example.test/mcp')

  const plain = { authorization: `Bearer ${await token('plain')}` }
  t.equal((await call('GET', '/admin/resources', undefined, plain)).statusCode, 403, 'scope admin needed')
  t.equal((await call('DELETE', `/admin/resources/${encodeURIComponent('https://mcp.example.test/mcp')}`, undefined, plain)).statusCode, 403)

  t.equal((await call('DELETE', `/admin/resources/${encodeURIComponent('https://mcp.example.test/mcp')}`)).statusCode, 204)
  t.equal((await call('DELETE', `/admin/resources/${encodeURIComponent('https://mcp.example.test/mcp')}`)).statusCode, 404, 'once')
  t.same((await call('GET', '/admin/resources')).json().map((r: { uri: string }) => r.uri), ['http://localhost:3000/mcp'])
})

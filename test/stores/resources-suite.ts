import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { RefreshToken, Storage } from '../../lib/stores/types.js'
import { createGrant } from './grant-fixture.js'

/** The resource store (RFC 8707) and the resources a refresh family keeps: one behavioural suite run unchanged against SQLite and PostgreSQL. */
export function resourceStoreSuite (t: Test, open: () => Promise<Storage>): void {
  const now = 1_800_000_000

  t.test('resources: create, find, list in URI order, delete; a URI twice is a conflict', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const mcp = await s.resources.create({ uri: 'https://mcp.test/mcp', name: 'MCP', scope: 'mcp:tools mcp:prompts' })
    t.match(mcp, { uri: 'https://mcp.test/mcp', name: 'MCP', scope: 'mcp:tools mcp:prompts' })
    t.type(mcp.createdAt, 'number')
    await s.resources.create({ uri: 'http://127.0.0.1:8080/', name: null, scope: '' })
    t.same(await s.resources.find('https://mcp.test/mcp'), mcp)
    t.equal(await s.resources.find('https://mcp.test/mcp/'), undefined, 'compared byte for byte')
    t.equal(await s.resources.find('https://MCP.test/mcp'), undefined)
    t.equal(await s.resources.find('a\u0000b'), undefined, 'a NUL finds nothing')
    await t.rejects(s.resources.create({ uri: 'https://mcp.test/mcp', name: 'again', scope: '' }), { name: 'ConflictError' })
    t.same((await s.resources.list({ limit: 10, offset: 0 })).map((r) => r.uri), ['http://127.0.0.1:8080/', 'https://mcp.test/mcp'])
    t.same((await s.resources.list({ limit: 1, offset: 1 })).map((r) => r.uri), ['https://mcp.test/mcp'], 'a page')
    t.match(await s.resources.delete('https://mcp.test/mcp'), { uri: 'https://mcp.test/mcp' })
    t.equal(await s.resources.delete('https://mcp.test/mcp'), undefined, 'once')
    t.equal(await s.resources.find('https://mcp.test/mcp'), undefined)
  })

  t.test('grants: the resources granted at authorization stay with the family through rotation', async (t) => {
    const s = await open()
    t.teardown(() => s.close())
    const token = (grantId: string): RefreshToken => ({ hash: randomUUID(), grantId, scope: 'a:read', issuedAt: now, expiresAt: now + 3600, consumedAt: null })
    const id = randomUUID()
    const first = token(id)
    await createGrant(s, { id, clientId: 'web', userId: randomUUID(), scope: 'a:read', resources: ['https://a.test/api', 'https://b.test/mcp'], createdAt: now, expiresAt: now + 7200 }, first)
    t.same((await s.grants.findGrant(id))?.resources, ['https://a.test/api', 'https://b.test/mcp'])
    t.same((await s.grants.findToken(first.hash))?.grant.resources, ['https://a.test/api', 'https://b.test/mcp'], 'with its token')
    const rotated = await s.grants.rotate(first.hash, token(id), { now, denyUntil: now + 900 })
    t.same(rotated.outcome === 'rotated' && rotated.grant.resources, ['https://a.test/api', 'https://b.test/mcp'], 'and its rotation')
    const plain = randomUUID()
    await createGrant(s, { id: plain, clientId: 'web', userId: randomUUID(), scope: '', createdAt: now, expiresAt: now + 7200 }, token(plain))
    t.same((await s.grants.findGrant(plain))?.resources, [], 'none: []')
  })
}

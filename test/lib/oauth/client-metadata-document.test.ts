import t from 'tap'
import { checkDocument, DOCUMENT_TTL, documentTtlSeconds, InvalidDocument, isDocumentUrl } from '../../../lib/oauth/client-metadata-document.js'

// lib/oauth/client-metadata-document.ts: the URL and document rules of Client ID Metadata Documents (SECURITY-CASES D3).

const URL_ID = 'https://app.example/oauth/client.json'
const known = new Set(['openid', 'profile', 'email', 'notes:read', 'admin'])
const doc = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify({ client_id: URL_ID, redirect_uris: ['https://app.example/cb'], ...fields }))

t.test('a client_id is a document URL when https, with a path, normalised, no fragment or credentials', async (t) => {
  for (const id of [URL_ID, 'https://app.example:8443/c', 'https://app.example/c?v=1']) t.ok(isDocumentUrl(id), id)
  for (const id of ['http://app.example/c', 'https://app.example', 'https://app.example/', 'https://app.example/c#f', 'https://u:p@app.example/c',
    'https://APP.example/c', 'https://app.example/a/../c', 'https://app.example:443/c', 'web', `https://app.example/${'x'.repeat(130)}`]) t.notOk(isDocumentUrl(id), id)
})

t.test('a valid document is a public client with authorization_code and refresh_token', async (t) => {
  const client = checkDocument(URL_ID, doc({ client_name: 'Agent', logo_uri: 'https://app.example/logo.png', client_uri: 'https://app.example' }), known)
  t.equal(client.isPublic, true)
  t.same(client.grantTypes, ['authorization_code', 'refresh_token'])
  t.same(client.redirectUris, ['https://app.example/cb'])
  t.equal(client.clientName, 'Agent')
  t.equal(client.scope, 'email notes:read openid profile', 'no scope named: every scope that exists but admin')
  t.equal(checkDocument(URL_ID, doc({ scope: 'openid notes:read' }), known).scope, 'openid notes:read', 'its own scope')
})

t.test('documents that do not describe a usable client are refused, saying why', async (t) => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from('not json'), /not JSON/],
    [Buffer.from('[1]'), /not a JSON object/],
    [doc({ client_id: 'https://other.example/c' }), /client_id is not its own URL/],
    [doc({ client_id: undefined }), /client_id is not its own URL/],
    [doc({ client_secret: 'x' }), /client secret/],
    [doc({ token_endpoint_auth_method: 'client_secret_post' }), /not none/],
    [doc({ redirect_uris: ['javascript:alert(1)'] }), /scheme/],
    [doc({ redirect_uris: ['https://app.example/cb#f'] }), /fragment/],
    [doc({ redirect_uris: [] }), /at least one/],
    [doc({ grant_types: ['client_credentials'] }), /not allowed/],
    [doc({ scope: 'admin' }), /not available/],
    [doc({ logo_uri: 'http://app.example/logo.png' }), /logo_uri/]
  ]
  for (const [body, why] of cases) t.throws(() => checkDocument(URL_ID, body, known), { name: 'InvalidDocument', message: why }, why.source)
  t.ok(new InvalidDocument('x') instanceof Error)
})

t.test('the cache time: max-age within bounds, no-store the minimum, none the default', async (t) => {
  t.equal(documentTtlSeconds('max-age=600'), 600)
  t.equal(documentTtlSeconds('public, max-age=5'), DOCUMENT_TTL.minSeconds)
  t.equal(documentTtlSeconds('max-age=99999999'), DOCUMENT_TTL.maxSeconds)
  t.equal(documentTtlSeconds('no-store'), DOCUMENT_TTL.minSeconds)
  t.equal(documentTtlSeconds('no-cache, max-age=600'), DOCUMENT_TTL.minSeconds)
  t.equal(documentTtlSeconds(undefined), DOCUMENT_TTL.defaultSeconds)
  t.equal(documentTtlSeconds('max-age=abc'), DOCUMENT_TTL.defaultSeconds)
})

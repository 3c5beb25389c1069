import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { generateOpenApiYaml } from '../openapi.js'

// dist/test → the repository root, where the committed openapi.yaml lives.
const COMMITTED = join(import.meta.dirname, '..', '..', 'openapi.yaml')

t.test('the committed openapi.yaml is what the route schemas generate', async (t) => {
  const generated = await generateOpenApiYaml()
  const committed = readFileSync(COMMITTED, 'utf8')
  t.equal(generated, committed, 'openapi.yaml is stale: run `npm run openapi` and commit the result')
})

t.test('the generated document is OpenAPI 3.1 and describes the endpoints', async (t) => {
  const doc = parse(await generateOpenApiYaml())
  t.equal(doc.openapi, '3.1.0')
  t.ok(doc.paths['/token']?.post, 'POST /token')
  t.ok(doc.paths['/users/me']?.get, 'GET /users/me')
  t.ok(doc.paths['/.well-known/oauth-authorization-server']?.get, 'metadata')
  t.notOk(doc.paths['/openapi.json'], 'the document does not describe itself')
})

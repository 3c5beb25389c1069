import t from 'tap'
import { addClient, addUser, build, post } from '../../support/helper.js'

// Issue 10, defect 10: admin JSON bodies are validated as sent, never type-coerced; forms and query strings
// keep their coercion (they arrive as text).

type Doc = Record<string, any>
type Method = 'POST' | 'PATCH'

async function setup (t: Parameters<typeof build>[0]) {
  const app = await build(t)
  await addUser(app, 'root', 'pw', { scope: 'admin' })
  const admin = { authorization: `Bearer ${(await post(app, '/token', { grant_type: 'password', username: 'root', password: 'pw' })).json().access_token as string}` }
  const call = (method: 'GET' | Method, url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { ...admin, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
  return { app, call }
}

t.test('PATCH /admin/users: null, "false", 0 and [false] are not booleans; the user stays disabled', async (t) => {
  const { app, call } = await setup(t)
  await addUser(app, 'bob', 'bob-pw', { disabled: true, scope: 'read write' })
  for (const disabled of [null, 'false', 0, [false], 'no', '']) {
    const res = await call('PATCH', '/admin/users/bob', { disabled })
    t.equal(res.statusCode, 400, `disabled: ${JSON.stringify(disabled)}`)
    t.equal(res.json().error, 'invalid_request')
    t.type(res.json().error_description, 'string')
  }
  t.equal((await call('GET', '/admin/users/bob')).json().disabled, true, 'still disabled')

  const scope = await call('PATCH', '/admin/users/bob', { scope: null })
  t.equal(scope.statusCode, 400, '{"scope": null}')
  t.equal((await call('GET', '/admin/users/bob')).json().scope, 'read write', 'scopes kept')

  for (const password of [12345678, true, ['pw']]) {
    t.equal((await call('PATCH', '/admin/users/bob', { password })).statusCode, 400, `password: ${JSON.stringify(password)}`)
  }
  t.equal((await call('POST', '/admin/users', { username: 'num', password: 12345678 })).statusCode, 400, 'a numeric password at creation')
  t.equal((await call('GET', '/admin/users/num')).statusCode, 404)
  t.equal((await call('PATCH', '/admin/users/bob', { disabled: false })).json().disabled, false, 'a real false still works')
})

t.test('PATCH /admin/clients: {"rotate_secret":"true"} rotates nothing', async (t) => {
  const { app, call } = await setup(t)
  const secret = await addClient(app, 'svc', { grantTypes: ['client_credentials'], scope: 'orders:read' })
  for (const rotate of ['true', 1, [true], null]) {
    const res = await call('PATCH', '/admin/clients/svc', { rotate_secret: rotate })
    t.equal(res.statusCode, 400, `rotate_secret: ${JSON.stringify(rotate)}`)
    t.equal(res.json().error, 'invalid_request')
    t.notOk(res.json().client_secret)
  }
  t.equal((await call('PATCH', '/admin/clients/svc', { grant_types: 'client_credentials' })).statusCode, 400, 'a string is not an array')
  const cc = await post(app, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret! })
  t.equal(cc.statusCode, 200, 'the old secret still works')
})

t.test('query strings and forms keep their coercion', async (t) => {
  const { app, call } = await setup(t)
  t.equal((await call('GET', '/admin/users?limit=1')).json().length, 1, '?limit=1 is the integer 1')
  t.equal((await call('GET', '/admin/users?limit=x')).statusCode, 400)
  const res = await post(app, '/token', { grant_type: 'password', username: 'root', password: 'pw' })
  t.equal(res.statusCode, 200, 'form bodies validate as before')
})

/** Values of the wrong JSON type for a property schema (the OpenAPI document's, as generated). */
function wrongValues (schema: Doc): unknown[] {
  const types = new Set<string>(Array.isArray(schema.type) ? schema.type : [schema.type])
  const candidates: Array<[string, unknown[]]> = [
    ['boolean', [true, false]], ['string', ['x', '1', 'true']], ['integer', [1, 0]], ['number', [1.5]],
    ['null', [null]], ['array', [[], ['x'], [true]]], ['object', [{}]]
  ]
  const accepts = (name: string) => types.has(name) || (name === 'integer' && types.has('number'))
  return candidates.filter(([name]) => !accepts(name)).flatMap(([, values]) => values)
}

t.test('every admin JSON body: a value of a type its OpenAPI schema does not declare is a 400 in the admin shape', async (t) => {
  const { app, call } = await setup(t)
  await addUser(app, 'target', 'pw')
  await addClient(app, 'target-client', { grantTypes: ['client_credentials'] })
  const doc = app.swagger() as Doc
  let checked = 0
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    if (!path.startsWith('/admin/')) continue
    for (const method of ['post', 'patch'] as const) {
      const schema = item[method]?.requestBody?.content?.['application/json']?.schema as Doc | undefined
      if (!schema?.properties) continue
      const url = path.replace('{username}', 'target').replace('{client_id}', 'target-client')
      for (const [name, property] of Object.entries<Doc>(schema.properties)) {
        if (property.type === undefined) continue
        for (const value of wrongValues(property)) {
          const res = await call(method.toUpperCase() as Method, url, { [name]: value })
          t.equal(res.statusCode, 400, `${method.toUpperCase()} ${path} ${name}: ${JSON.stringify(value)} (schema type ${JSON.stringify(property.type)})`)
          t.equal(res.json().error, 'invalid_request')
          checked++
        }
      }
    }
  }
  t.ok(checked >= 40, `${checked} wrong-typed values refused`)
})

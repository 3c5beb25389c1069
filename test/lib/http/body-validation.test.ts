import t from 'tap'
import { buildValidator, parseForm } from '../../../lib/http/body-validation.js'
import { ajvOptions } from '../../../lib/http/server-options.js'

// Ajv may coerce text (query strings, path parameters, form bodies) to the schema's types, never a JSON body.

const schema = {
  type: 'object',
  properties: { disabled: { type: 'boolean' }, limit: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
  additionalProperties: false
}
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null }
const compile = buildValidator({}, ajvOptions as never) as unknown as (route: { schema: object, httpPart: string, method: string, url: string }) => Validate
const validatorFor = (httpPart: string) => compile({ schema, httpPart, method: 'POST', url: '/x' })

t.test('parseForm: fast-querystring\'s reading, repeated keys as arrays', async (t) => {
  t.same({ ...parseForm('a=1&b=x%20y&a=2&c=') }, { a: ['1', '2'], b: 'x y', c: '' })
})

t.test('a form body is coerced: "true" is true, "5" is 5, one value is an array of one', async (t) => {
  const validate = validatorFor('body')
  const body = parseForm('disabled=true&limit=5&tags=a')
  t.ok(validate(body), JSON.stringify(validate.errors))
  t.same({ ...body }, { disabled: true, limit: 5, tags: ['a'] })
})

t.test('a JSON body is validated as sent: null, "false", 0 or [false] is not a boolean', async (t) => {
  const validate = validatorFor('body')
  for (const disabled of [null, 'false', 0, [false]]) {
    const body = { disabled }
    t.notOk(validate(body), `${JSON.stringify(disabled)} refused`)
    t.match(validate.errors, [{ instancePath: '/disabled', keyword: 'type' }], 'the error says where')
    t.same(body, { disabled }, 'and the body is left as it was')
  }
  t.notOk(validate({ limit: '5' }), 'a number as text in JSON is refused')
  t.ok(validate({ disabled: false, limit: 5, tags: ['a'] }), 'the right types pass')
})

t.test('an object that looks like a form but did not come from the form parser is JSON', async (t) => {
  const validate = validatorFor('body')
  t.notOk(validate(Object.assign(Object.create(null), { disabled: 'true' })))
})

t.test('query strings and parameters keep their coercion', async (t) => {
  const validate = validatorFor('querystring')
  const query = { disabled: 'false', limit: '10' }
  t.ok(validate(query), JSON.stringify(validate.errors))
  t.same(query, { disabled: false, limit: 10 })
  t.notOk(validate({ unknown: '1' }), 'unknown properties are refused, not dropped')
})

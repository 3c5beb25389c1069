import t from 'tap'
import Fastify from 'fastify'
import { buildSerializer } from '../../../lib/http/response-serializers.js'
import { baseOptions } from '../../../lib/http/server-options.js'

// A compiled response serializer is reused only for the same schema object under the same shared schemas
// and serializer options; anything else compiles afresh.

const route = (schema: object) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' })
const person = { $id: 'Person', type: 'object', properties: { name: { type: 'string' } } }
const withAge = { $id: 'Person', type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } }
const reply = { type: 'object', properties: { who: { $ref: 'Person#' }, n: { type: 'integer' } } }

t.test('the same schema object under the same shared schemas: one serializer, compiled once', async (t) => {
  const first = buildSerializer({ Person: person }, undefined)(route(reply))
  const again = buildSerializer({ Person: { ...person } }, undefined)(route(reply))
  t.equal(again, first, 'a second app (equal shared schemas, new objects) gets the same function')
  t.equal(first({ who: { name: 'a', age: 3 }, n: 1, extra: true }), '{"who":{"name":"a"},"n":1}')
})

t.test('another schema object, even an equal one, compiles its own', async (t) => {
  const compile = buildSerializer({ Person: person }, undefined)
  t.not(compile(route({ ...reply })), compile(route(reply)))
})

t.test('other shared schemas: the $ref resolves against them, not against the cached ones', async (t) => {
  const plain = buildSerializer({ Person: person }, undefined)(route(reply))
  const aged = buildSerializer({ Person: withAge }, undefined)(route(reply))
  t.not(aged, plain)
  t.equal(aged({ who: { name: 'a', age: 3 } }), '{"who":{"name":"a","age":3}}')
  t.equal(plain({ who: { name: 'a', age: 3 } }), '{"who":{"name":"a"}}')
})

t.test('other serializer options: compiled afresh', async (t) => {
  const big = { type: 'object', properties: { n: { type: 'integer' } } }
  const plain = buildSerializer({}, undefined)(route(big))
  const rounded = buildSerializer({}, { rounding: 'ceil' })(route(big))
  t.not(rounded, plain)
  t.equal(plain({ n: 1.5 }), '{"n":1}', 'fast-json-stringify truncates by default')
  t.equal(rounded({ n: 1.5 }), '{"n":2}', 'the options reach the compiled serializer')
})

t.test('through Fastify (baseOptions): two apps with different shared schemas under one $id each answer by their own', async (t) => {
  const schema = { response: { 200: reply } }
  const answers: string[] = []
  for (const shared of [person, withAge]) {
    const app = Fastify({ ...baseOptions })
    t.teardown(() => app.close())
    app.addSchema(shared)
    app.get('/x', { schema }, async () => ({ who: { name: 'a', age: 3 }, n: 1 }))
    answers.push((await app.inject('/x')).body)
  }
  t.same(answers, ['{"who":{"name":"a"},"n":1}', '{"who":{"name":"a","age":3},"n":1}'])
})

import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type BuildSerializer = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>
type SerializerCompiler = SerializerSelector.SerializerCompiler
type Serializer = SerializerSelector.Serializer

/**
 * Fastify's own response serializer factory (fast-json-stringify through @fastify/fast-json-stringify-compiler),
 * with each compiled serializer kept for the life of the process. Compiling the ~90 response schemas was most
 * of the cost of building an app, and route schemas are module constants: an app built again in the same
 * process (the tests build hundreds) gets the serializers the first build compiled. A server builds once, so
 * there it changes nothing.
 *
 * A compiled serializer depends on the schema object and on what the compiler closes over: the shared schemas
 * its `$ref`s resolve against (`addSchema`, plugins/schemas.ts; an extension may add more) and the server's
 * `serializerOpts`. Those two pick the pool (by content, as @fastify/ajv-compiler pools its Ajv instances), and
 * within a pool the schema object is the key, so a serializer is never reused with other shared schemas or
 * options. Fastify compiles each response schema with `{ schema, method, url, httpStatus, contentType }`; the
 * compiler reads only `schema`.
 */
const factory = SerializerSelector()
const pools = new Map<string, { compile: SerializerCompiler, compiled: WeakMap<object, Serializer> }>()

export const buildSerializer: BuildSerializer = (externalSchemas, serializerOpts) => {
  const key = JSON.stringify([externalSchemas, serializerOpts ?? null])
  let pool = pools.get(key)
  if (pool === undefined) {
    pool = { compile: factory(externalSchemas, serializerOpts), compiled: new WeakMap() }
    pools.set(key, pool)
  }
  const { compile, compiled } = pool
  return (route) => {
    const schema = route.schema as object
    let serialize = compiled.get(schema)
    if (serialize === undefined) {
      serialize = compile(route as SerializerSelector.RouteDefinition)
      compiled.set(schema, serialize)
    }
    return serialize
  }
}

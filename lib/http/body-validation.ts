import AjvCompiler from '@fastify/ajv-compiler'
import { parse as parseQueryString } from 'fast-querystring'
import type { FastifyServerOptions } from 'fastify'

/**
 * Which inputs Ajv may type-coerce. Query strings, path parameters and form bodies arrive as text, so they
 * are coerced to the schema's types (`?limit=5`, a repeated key into an array). A JSON body already carries
 * its types: it is validated exactly as sent, so `{"disabled": null}`, `"false"`, `0` or `[false]` is a 400
 * where the schema says boolean, never a silent `false` (issue 10, defect 10). A body counts as a form only
 * when the form parser made it (`parseForm`), whatever the route.
 */

const formBodies = new WeakSet<object>()

/** The form parser (application/x-www-form-urlencoded): fast-querystring, as @fastify/formbody's default, marked. */
export function parseForm (text: string): Record<string, unknown> {
  const body = parseQueryString(text) as Record<string, unknown>
  formBodies.add(body)
  return body
}

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>
type Validate = ((data: unknown) => unknown) & { errors?: unknown }

const coercingPool = AjvCompiler()
const exactPool = AjvCompiler()

export const buildValidator: BuildValidator = (externalSchemas, ajvOptions) => {
  const options = ajvOptions as { customOptions?: Record<string, unknown> }
  const coercing = coercingPool(externalSchemas as never, options as never)
  const exact = exactPool(externalSchemas as never, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } } as never)
  return (route) => {
    if (route.httpPart !== 'body') return coercing(route as never)
    const fromForm = coercing(route as never) as Validate
    const fromJson = exact(route as never) as Validate
    const validate: Validate = (data) => {
      const chosen = data !== null && typeof data === 'object' && formBodies.has(data) ? fromForm : fromJson
      const ok = chosen(data)
      validate.errors = chosen.errors
      return ok
    }
    return validate as never
  }
}

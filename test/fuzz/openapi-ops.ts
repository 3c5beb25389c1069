/**
 * The operations of an OpenAPI 3.1 document (as `app.swagger()` returns it), in the small shape the fuzzer
 * needs: method, path template, parameters, request body and documented responses, with `$ref`s resolved.
 */

export type Schema = Record<string, any>

export interface Param {
  name: string
  in: 'path' | 'query'
  required: boolean
  schema: Schema
}

export interface Operation {
  /** "POST /token", "GET /admin/users/{username}" */
  id: string
  /** The document's operationId ("rotateSigningKey"): a name that stays when a path is renamed. */
  operationId: string | undefined
  method: string
  /** The OpenAPI path template. */
  path: string
  params: Param[]
  body: { mediaType: string, schema: Schema } | undefined
  /** Documented responses by status code ("200", "400", ...), each with its JSON schema if it has one. */
  responses: Map<number, Schema | undefined>
  /** Statuses documented as an HTML page (text/html): the browser endpoints' pages. */
  htmlResponses: Set<number>
  /** Security alternatives, e.g. [{ bearerAuth: ['admin'] }] or [{ clientSecretBasic: [] }, {}]. */
  security: Array<Record<string, string[]>>
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

export function resolveRef (doc: Schema, schema: Schema | undefined): Schema | undefined {
  let s = schema
  for (let depth = 0; s && typeof s.$ref === 'string' && depth < 20; depth++) {
    const ref: string = s.$ref
    if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`)
    s = ref.slice(2).split('/').reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
  }
  return s
}

/** Every operation of the document; /docs (the Swagger UI's static assets) and HEAD are left out. */
export function operationsOf (doc: Schema): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    if (path === '/docs' || path.startsWith('/docs/')) continue
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .map((p: Schema) => resolveRef(doc, p)!)
        .filter((p: Schema) => p.in === 'path' || p.in === 'query')
        .map((p: Schema) => ({ name: p.name, in: p.in, required: p.required === true, schema: resolveRef(doc, p.schema) ?? {} }))
      let body: Operation['body']
      const content = resolveRef(doc, op.requestBody)?.content as Record<string, Schema> | undefined
      if (content) {
        const [mediaType, media] = Object.entries(content)[0]!
        body = { mediaType, schema: resolveRef(doc, media.schema) ?? {} }
      }
      const responses = new Map<number, Schema | undefined>()
      const htmlResponses = new Set<number>()
      for (const [status, response] of Object.entries<Schema>(op.responses ?? {})) {
        const resolved = resolveRef(doc, response)
        if (resolved?.content?.['text/html']) htmlResponses.add(Number(status))
        const json = resolved?.content?.['application/json']?.schema
        responses.set(Number(status), resolveRef(doc, json))
      }
      ops.push({
        id: `${method.toUpperCase()} ${path}`,
        operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
        method: method.toUpperCase(),
        path,
        params,
        body,
        responses,
        htmlResponses,
        security: op.security ?? doc.security ?? []
      })
    }
  }
  return ops
}

/**
 * The values `error` may take in a documented error body: the enum/const values of the `error` property,
 * `undefined` when the document allows any string there, or an empty set when the body has no `error`.
 */
export function documentedErrors (doc: Schema, schema: Schema | undefined): Set<string> | undefined {
  const body = resolveRef(doc, schema)
  const error = resolveRef(doc, body?.properties?.error)
  if (!error) return new Set()
  const values = new Set<string>()
  let open = false
  const visit = (s: Schema | undefined) => {
    s = resolveRef(doc, s)
    if (!s) return
    if (Array.isArray(s.enum)) for (const v of s.enum) values.add(String(v))
    else if (s.const !== undefined) values.add(String(s.const))
    else if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) for (const sub of s.anyOf ?? s.oneOf) visit(sub)
    else open = true
  }
  visit(error)
  return open ? undefined : values
}

/** Turns an OpenAPI path template into a pattern that matches concrete request paths. */
export function pathPattern (template: string): RegExp {
  const source = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')
  return new RegExp(`^${source}$`)
}

import fc from 'fast-check'
import { pathPattern, type Operation, type Schema } from './openapi-ops.js'

/**
 * fast-check arbitraries for requests to one OpenAPI operation: values derived from its parameter and
 * request-body schemas (valid ones, boundaries, and hostile ones), in the documented encoding and in the
 * wrong ones, with every kind of Authorization header. Domain knowledge enters only through `Pools`
 * (known users, clients and live tokens, so that success paths are reached too).
 */

/** Known-good material the generators draw from; the arrays grow as the fuzzer harvests tokens and resources. */
export interface Pools {
  users: Array<{ username: string, password: string }>
  confidential: Array<{ id: string, secret: string }>
  publicClients: string[]
  accessTokens: string[]
  refreshTokens: string[]
  adminToken: string
  userToken: string
  /** Resources path parameters may name (they may be read, changed or deleted). */
  victimUsers: string[]
  victimClients: string[]
  /** Upstream providers (path parameters `name`, `provider`), and which users have an account linked at them. */
  victimProviders: string[]
  /** Pending invitations' ids (path parameter `id`): those POST /admin/invitations made. */
  victimInvitations: string[]
  /** Registered resources' URIs (RFC 8707; path parameter `uri`): the fixtures' and those POST /admin/resources made. */
  victimResources: string[]
  /** Initial access tokens' ids (RFC 7591; path parameter `id`, shared with invitations): the fixtures' and those POST /admin/registration-tokens made. */
  victimRegistrationTokens: string[]
  /** Never used as a path parameter: the fixtures the fuzzer needs to keep working. */
  protectedUsers: Set<string>
  protectedClients: Set<string>
}

/** Percent-encoded raw bytes, put into a URL or body verbatim (invalid UTF-8 can only travel like this). */
export class Raw {
  constructor (readonly pct: string) {}
  bytes (): Buffer {
    const out: number[] = []
    for (let i = 0; i < this.pct.length; i++) {
      const hex = this.pct.slice(i + 1, i + 3)
      if (this.pct[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) { out.push(parseInt(hex, 16)); i += 2 } else out.push(this.pct.charCodeAt(i) & 0xff)
    }
    return Buffer.from(out)
  }
}

export interface FuzzRequest {
  method: string
  url: string
  headers: Record<string, string>
  payload: Buffer | undefined
  remoteAddress: string
  /** What the generator meant: 'op' (to the operation), 'method' (a method the path lacks), 'path' (a mangled path). */
  target: 'op' | 'method' | 'path'
  /** The body is bigger than the route's limit (a 413 is the answer). */
  oversize: boolean
  /** A short human description of the choices made, for failure reports. */
  notes: string[]
}

// ---------------------------------------------------------------------------------------------------------
// values

const pickFrom = <T>(get: () => T[], fallback: T): fc.Arbitrary<T> =>
  fc.nat().map((i) => { const a = get(); return a.length > 0 ? a[i % a.length]! : fallback })

const RAW_BYTES = ['%ED%A0%80', '%FF%FE', '%C0%AF', '%', '%G1', '%00', '%E2%82', '%F4%90%80%80', '%EF%BB%BF'].map((p) => new Raw(p))

export const hostileString: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '\u0000', 'alice\u0000', 'a\u0000b', '\ud800', 'a\udfffb', '\udc00\ud800', 'alice\u200b', 'ａｌｉｃｅ', 'Alice',
    "' OR '1'='1", "alice'--", '"; DROP TABLE users;--', '%', '_', '%00', '\r\n{"level":60,"msg":"forged"}', '', ' ', '\t',
    // eslint-disable-next-line no-template-curly-in-string -- a log4shell probe, as text
    '../../etc/passwd', '${jndi:ldap://x}', '<script>alert(1)</script>', '🔥🔥🔥', '\u202eevil', 'null', 'undefined',
    '__proto__', 'constructor', 'toString', '0', '-1', 'NaN', 'true', '[]', '{}', 'Bearer x', 'a b', 'a+b', 'a&b=c'
  ),
  fc.constant('x'.repeat(10 * 1024)),
  fc.constant('é'.repeat(5 * 1024)),
  fc.constant('\ud83d'.repeat(3 * 1024)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 }),
  fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }),
  fc.constantFrom(...RAW_BYTES)
)

export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  // eslint-disable-next-line @typescript-eslint/no-loss-of-precision -- a number JSON cannot carry exactly, on purpose
  fc.constantFrom(1e308, -0, 2 ** 53 + 1, -(2 ** 63), 99999999999999999999)
)

/** Values just outside a schema's bounds (one character, item or unit too many or too few). */
export function outOfRange (s: Schema): unknown[] {
  const out: unknown[] = []
  if (typeof s.maxLength === 'number') out.push('x'.repeat(Math.min(s.maxLength + 1, 70_000)))
  if (typeof s.minLength === 'number' && s.minLength > 0) out.push('x'.repeat(s.minLength - 1))
  if (typeof s.maximum === 'number') out.push(s.maximum + 1)
  if (typeof s.minimum === 'number') out.push(s.minimum - 1)
  if (typeof s.maxItems === 'number') out.push(Array.from({ length: s.maxItems + 1 }, () => 'password'))
  if (typeof s.minItems === 'number' && s.minItems > 0) out.push([])
  return out
}

/** Valid values straight from a JSON schema (its boundaries included). */
export function schemaValue (s: Schema): fc.Arbitrary<unknown> {
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum)
  if (s.const !== undefined) return fc.constant(s.const)
  if (Array.isArray(s.anyOf)) return fc.oneof(...s.anyOf.map(schemaValue))
  if (Array.isArray(s.oneOf)) return fc.oneof(...s.oneOf.map(schemaValue))
  const types: string[] = Array.isArray(s.type) ? s.type : [s.type ?? 'string']
  return fc.oneof(...types.map((type) => typedValue(type, s)))
}

function typedValue (type: string, s: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null': return fc.constant(null)
    case 'boolean': return fc.boolean()
    case 'integer':
    case 'number': {
      const min = s.minimum ?? -(2 ** 31)
      const max = s.maximum ?? 2 ** 31
      const base = type === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true })
      return fc.oneof({ weight: 4, arbitrary: base }, { weight: 1, arbitrary: fc.constantFrom(min, max) })
    }
    case 'array': {
      const items = schemaValue(s.items ?? {})
      const minLength = s.minItems ?? 0
      const maxLength = Math.min(s.maxItems ?? 5, 5)
      return fc.array(items, { minLength, maxLength: Math.max(minLength, maxLength) })
    }
    case 'object': return objectValue(s, {})
    default: {
      const minLength = s.minLength ?? 0
      const maxLength = s.maxLength ?? 64
      const plain = s.pattern
        ? fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= minLength && v.length <= maxLength)
        : fc.string({ minLength, maxLength: Math.max(minLength, Math.min(maxLength, 40)) })
      return fc.oneof({ weight: 8, arbitrary: plain }, { weight: 1, arbitrary: fc.constant('x'.repeat(Math.max(minLength, Math.min(maxLength, 40_000)))) })
    }
  }
}

const ABSENT = Symbol('absent')

/**
 * An object: required properties always, each optional one 3 times in 10 (so that a share of requests is
 * entirely valid even where many optional parameters exist); `hints` add domain values per name.
 */
export function objectValue (s: Schema, hints: Record<string, fc.Arbitrary<unknown>>, presence: Record<string, number> = {}): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {}
  const required = new Set<string>(s.required ?? [])
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [name, schema] of Object.entries<Schema>(props)) {
    const own = schemaValue(schema)
    const value = hints[name] ? fc.oneof({ weight: 3, arbitrary: hints[name] }, { weight: 1, arbitrary: own }) : own
    const present = presence[name] ?? 3
    model[name] = required.has(name) ? value : fc.oneof({ weight: 10 - present, arbitrary: fc.constant(ABSENT) }, { weight: present, arbitrary: value })
  }
  return fc.record(model).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== ABSENT)))
}

/** Domain values by parameter name, so that grants, tokens and resources really exist in a share of requests. */
function hintsFor (op: Operation, pools: Pools): Record<string, fc.Arbitrary<unknown>> {
  const form = op.body?.mediaType === 'application/x-www-form-urlencoded'
  const anyToken = fc.oneof(pickFrom(() => pools.accessTokens, 'x'), pickFrom(() => pools.refreshTokens, 'x'))
  const confidential = pickFrom(() => pools.confidential, { id: 'none', secret: 'none' })
  const hints: Record<string, fc.Arbitrary<unknown>> = {
    scope: fc.constantFrom('read', 'admin', 'read write', 'write', 'openid', '', ' ', 'read  read', 'READ'),
    email: fc.constantFrom('alice@example.test', 'x@y', 'not-an-email', 'a b@c', 'a\u0000@b.c'),
    redirect_uris: fc.array(fc.constantFrom('https://app.test/cb', 'http://127.0.0.1/cb', 'http://evil.test/cb', 'https://a.test/#f', 'not a uri', 'https://a.test/\u0000', 'javascript:alert(1)'), { maxLength: 3 }),
    // Upstream providers: mostly URLs the rules accept, so that registrations and changes succeed too.
    issuer: fc.constantFrom('https://idp.test', 'https://idp.test/tenant/', 'http://127.0.0.1:9/', 'http://idp.test', 'idp.test', 'https://idp.test/#f', 'https://u:p@idp.test'),
    authorization_endpoint: fc.constantFrom('https://idp.test/authorize', '', 'http://evil.test/a', 'not a url'),
    token_endpoint: fc.constantFrom('https://idp.test/token', '', 'javascript:alert(1)'),
    userinfo_endpoint: fc.constantFrom('https://idp.test/userinfo', ''),
    // The discovery check (POST/PATCH /admin/providers) mostly off: no fixture issuer serves a discovery document, so a
    // check is refused (400, nothing stored); on now and then so that its refusals are fuzzed too.
    check_discovery: fc.constantFrom(false, false, false, true),
    providers: fc.oneof(fc.constant(null), fc.constant(0).map(() => pools.victimProviders.slice(0, 1)), fc.constant(['nope'])),
    // RFC 7591 metadata (POST /register): mostly values the rules accept, so that registrations succeed too.
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'bogus'),
    response_types: fc.constantFrom(['code'], [], ['token'], ['code', 'code']),
    client_name: fc.constantFrom('Example App', '', 'a\u202eb', 'x'.repeat(101)),
    client_uri: fc.constantFrom('https://app.test/', 'http://app.test/', 'javascript:alert(1)'),
    logo_uri: fc.constantFrom('https://app.test/logo.png', 'data:image/png;base64,AA=='),
    tos_uri: fc.constantFrom('https://app.test/tos', 'ftp://app.test/'),
    policy_uri: fc.constantFrom('https://app.test/policy', ''),
    contacts: fc.constantFrom(['dev@app.test'], [''], ['a\u0000b'])
  }
  if (form) {
    Object.assign(hints, {
      grant_type: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('password', 'client_credentials', 'refresh_token') },
        { weight: 1, arbitrary: fc.constantFrom('authorization_code', 'implicit', 'PASSWORD', 'urn:ietf:params:oauth:grant-type:jwt-bearer') }
      ),
      // A known username; the request generator then often sends that user's real password (see `paired`).
      // Mostly alice, so that failed guesses pile up on one account and its 429 is reached as well.
      username: fc.oneof({ weight: 2, arbitrary: fc.constant('alice') }, { weight: 1, arbitrary: pickFrom(() => pools.users, { username: 'nobody', password: 'x' }).map((u) => u.username) }),
      password: fc.constantFrom('wrong password', 'x'),
      refresh_token: pickFrom(() => pools.refreshTokens, 'x'),
      token: anyToken,
      token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'bogus'),
      client_id: fc.oneof(confidential.map((c) => c.id), pickFrom(() => pools.publicClients, 'p1'), fc.constant('default')),
      client_secret: fc.oneof(confidential.map((c) => c.secret), fc.constant('wrong'))
    })
  } else {
    Object.assign(hints, {
      username: fc.oneof(pickFrom(() => pools.victimUsers, 'v0'), fc.stringMatching(/^[a-z0-9][a-z0-9._@+-]{0,20}$/)),
      client_id: fc.oneof(pickFrom(() => pools.victimClients, 'vc0'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/), fc.constant('c'.repeat(120)), fc.constant('default')),
      name: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/), pickFrom(() => pools.victimProviders, 'vp0'), fc.constant('Bad Name')),
      // Resources (RFC 8707): mostly new URIs the rules accept, so that registrations succeed too.
      uri: fc.oneof(
        { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/).map((host) => `https://${host}.test/api`) },
        { weight: 1, arbitrary: fc.constantFrom('http://localhost:3000/mcp', 'http://evil.test/api', 'https://a.test/#f', 'not a uri', 'https://a.test/\u0000', 'urn:x:y') },
        { weight: 1, arbitrary: pickFrom(() => pools.victimResources, 'https://vr0.test/api') }
      ),
      grant_types: fc.oneof(fc.constant(['client_credentials']), fc.constant(['password', 'refresh_token']), fc.constant(['authorization_code'])),
      password: fc.string({ minLength: 1, maxLength: 20 })
    })
  }
  return hints
}

// ---------------------------------------------------------------------------------------------------------
// encodings

const UNRESERVED = /[A-Za-z0-9\-._~]/
function pctEncode (text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function formValue (value: unknown): string {
  if (value instanceof Raw) return value.pct
  if (typeof value === 'string') return pctEncode(value)
  return pctEncode(typeof value === 'object' ? JSON.stringify(value) : String(value))
}

type Pairs = Array<[string, unknown]>

/** a=1&b=2; an array value repeats the key; null is a bare key without '='. */
function formEncode (pairs: Pairs): string {
  const parts: string[] = []
  for (const [k, v] of pairs) {
    if (Array.isArray(v)) for (const item of v) parts.push(`${pctEncode(k)}=${formValue(item)}`)
    else if (v === null) parts.push(pctEncode(k))
    else parts.push(`${pctEncode(k)}=${formValue(v)}`)
  }
  return parts.join('&')
}

function jsonValue (value: unknown): Buffer {
  if (value instanceof Raw) return Buffer.concat([Buffer.from('"'), value.bytes(), Buffer.from('"')])
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('['), ...value.flatMap((v, i) => i ? [Buffer.from(','), jsonValue(v)] : [jsonValue(v)]), Buffer.from(']')])
  return Buffer.from(JSON.stringify(value) ?? 'null')
}

/** JSON text written by hand, so a repeated key stays repeated. */
function jsonEncode (pairs: Pairs): Buffer {
  const parts: Buffer[] = [Buffer.from('{')]
  pairs.forEach(([k, v], i) => {
    if (i) parts.push(Buffer.from(','))
    parts.push(Buffer.from(JSON.stringify(k) + ':'), jsonValue(v))
  })
  parts.push(Buffer.from('}'))
  return Buffer.concat(parts)
}

const BOUNDARY = 'fuzzBoundary7MA4YWxk'
function multipartEncode (pairs: Pairs): Buffer {
  const parts: Buffer[] = []
  for (const [k, v] of pairs) {
    const value = v instanceof Raw ? v.bytes() : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v) ?? '')
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k.replace(/"/g, '')}"\r\n\r\n`), value, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`))
  return Buffer.concat(parts)
}

type Mutation =
  | { kind: 'drop', key: string }
  | { kind: 'set', key: string, value: unknown }
  | { kind: 'add', key: string, value: unknown }
  | { kind: 'repeat', key: string, value: unknown }

function applyMutations (value: Record<string, unknown>, mutations: Mutation[]): Pairs {
  let pairs: Pairs = Object.entries(value)
  for (const m of mutations) {
    if (m.kind === 'drop') pairs = pairs.filter(([k]) => k !== m.key)
    else if (m.kind === 'set') pairs = [...pairs.filter(([k]) => k !== m.key), [m.key, m.value]]
    else if (m.kind === 'add') pairs = [...pairs, [m.key, m.value]]
    else {
      const existing = pairs.find(([k]) => k === m.key)
      pairs = [...pairs, [m.key, existing ? existing[1] : m.value], [m.key, m.value]]
    }
  }
  return pairs
}

function mutationArb (schema: Schema, required: string[]): fc.Arbitrary<Mutation> {
  const props: Record<string, Schema> = schema.properties ?? {}
  const keys = Object.keys(props)
  const key = keys.length ? fc.constantFrom(...keys) : fc.string({ maxLength: 8 })
  const bounded = keys.filter((k) => outOfRange(props[k]!).length > 0)
  const options: Array<fc.WeightedArbitrary<Mutation>> = [
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), key }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: wrongType }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: hostileString }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'access_token', 'toString', 'hasOwnProperty', '')), value: fc.oneof(fc.string({ maxLength: 10 }), hostileString) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), key, value: fc.oneof(fc.string({ maxLength: 10 }), hostileString) }) }
  ]
  if (required.length) options.push({ weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...required) }) })
  if (bounded.length) {
    options.push({ weight: 2, arbitrary: fc.constantFrom(...bounded).chain((k) => fc.constantFrom(...outOfRange(props[k]!)).map((value): Mutation => ({ kind: 'set', key: k, value }))) })
  }
  return fc.oneof(...options)
}

const BAD_JSON = ['{', '{"a":', '[1,2', 'nul', '{"a":1}}', '\u0000', '"just a string"', '123', 'null', '[]', '{"a":"\\ud800"}', '{"a":1e999}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '\ufeff{}', '{"a":"\\u0000"}']
const WEIRD_TYPES = [
  'application/x-www-form-urlencoded; charset=utf-16', 'APPLICATION/X-WWW-FORM-URLENCODED', 'application/x-www-form-urlencodedx',
  'application/json; charset=latin1', 'application/jsonx', 'application/merge-patch+json', 'application/vnd.api+json', 'text/html',
  'application/xml', '*/*', ';', 'application/json, application/x-www-form-urlencoded', ' application/json', 'multipart/form-data',
  'application/octet-stream', 'text/plain; charset=utf-8', 'application/json;;', 'x'
]

type Encoding = 'documented' | 'swapped' | 'multipart' | 'text' | 'no-type' | 'no-body' | 'garbage' | 'bad-json' | 'weird-type' | 'empty' | 'oversize'

interface BodyPlan { encoding: Encoding, pairs: Pairs, extra: unknown }

function encodingArb (hasBody: boolean): fc.Arbitrary<Encoding> {
  const w = (encoding: Encoding, weight: number) => ({ weight, arbitrary: fc.constant(encoding) })
  return hasBody
    ? fc.oneof(w('documented', 40), w('swapped', 3), w('multipart', 2), w('text', 2), w('no-type', 2), w('no-body', 2), w('garbage', 2), w('bad-json', 2), w('weird-type', 2), w('empty', 2), w('oversize', 1))
    : fc.oneof(w('no-body', 40), w('documented', 3), w('swapped', 2), w('multipart', 1), w('text', 1), w('garbage', 1), w('bad-json', 2), w('weird-type', 1), w('empty', 1), w('oversize', 1))
}

function encodeBody (plan: BodyPlan, documented: string, limit: number): { headers: Record<string, string>, payload: Buffer | undefined, oversize: boolean } {
  const asForm = () => Buffer.from(formEncode(plan.pairs))
  const asJson = () => jsonEncode(plan.pairs)
  const docForm = documented === 'application/x-www-form-urlencoded'
  const native = () => docForm ? asForm() : asJson()
  switch (plan.encoding) {
    case 'documented': return { headers: { 'content-type': documented }, payload: native(), oversize: false }
    case 'swapped': return docForm
      ? { headers: { 'content-type': 'application/json' }, payload: asJson(), oversize: false }
      : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: asForm(), oversize: false }
    case 'multipart': return { headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, payload: multipartEncode(plan.pairs), oversize: false }
    case 'text': return { headers: { 'content-type': 'text/plain' }, payload: asForm(), oversize: false }
    case 'no-type': return { headers: {}, payload: native(), oversize: false }
    case 'no-body': return { headers: {}, payload: undefined, oversize: false }
    case 'garbage': return { headers: { 'content-type': documented }, payload: Buffer.from(plan.extra as Uint8Array), oversize: false }
    case 'bad-json': return { headers: { 'content-type': 'application/json' }, payload: Buffer.from(plan.extra as string), oversize: false }
    case 'weird-type': return { headers: { 'content-type': plan.extra as string }, payload: native(), oversize: false }
    case 'empty': return { headers: { 'content-type': documented }, payload: Buffer.alloc(0), oversize: false }
    case 'oversize': {
      const payload = docForm
        ? Buffer.from('a=' + 'x'.repeat(limit - 1))
        : Buffer.from('{"a":"' + 'x'.repeat(limit - 7) + '"}')
      return { headers: { 'content-type': documented }, payload, oversize: true }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// URL, headers

function pathSegment (name: string, pools: Pools): fc.Arbitrary<string> {
  const byName: Record<string, () => string[]> = {
    username: () => pools.victimUsers,
    name: () => pools.victimProviders,
    provider: () => pools.victimProviders,
    id: () => [...pools.victimInvitations, ...pools.victimRegistrationTokens],
    uri: () => pools.victimResources
  }
  const victims = byName[name] ?? (() => pools.victimClients)
  const isProtected = (v: string) => (name === 'username' ? pools.protectedUsers : pools.protectedClients).has(v)
  return fc.oneof(
    { weight: 5, arbitrary: pickFrom(victims, 'nobody').map(pctEncode) },
    { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).filter((v) => !isProtected(v)).map(pctEncode) },
    { weight: 1, arbitrary: fc.constantFrom('c'.repeat(120), 'x'.repeat(101), 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(10 * 1024)) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_BYTES).map((r) => 'a' + r.pct) },
    { weight: 2, arbitrary: hostileString.filter((v) => typeof v === 'string' && v !== '' && !isProtected(v)).map((v) => pctEncode(v as string)) },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', 'a%2Fb', '%20', '+', 'default') }
  )
}

function queryArb (op: Operation, pools: Pools): fc.Arbitrary<string> {
  const query = op.params.filter((p) => p.in === 'query')
  if (query.length === 0) {
    return fc.oneof(
      { weight: 17, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: pickFrom(() => pools.accessTokens, 'x').map((tok) => `access_token=${tok}`) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), hostileString)), { maxLength: 3 }).map((pairs) => formEncode(pairs)) },
      { weight: 1, arbitrary: fc.constantFrom('%', '%ZZ', 'a=%ED%A0%80', '&&&', '=', 'a=1&a=2', '__proto__[x]=1') }
    )
  }
  const bad = fc.constantFrom('abc', '1.5', '-1', '1e3', '0x10', '99999999999999999999', '', ' 1', '+1', '-0', 'NaN', 'Infinity', '1,2')
  const entries = query.map((p) => fc.oneof(
    { weight: 1, arbitrary: fc.constant<Pairs>([]) },
    { weight: 5, arbitrary: schemaValue(p.schema).map((v): Pairs => [[p.name, v]]) },
    { weight: 2, arbitrary: bad.map((v): Pairs => [[p.name, v]]) },
    ...(outOfRange(p.schema).length ? [{ weight: 1, arbitrary: fc.constantFrom(...outOfRange(p.schema)).map((v): Pairs => [[p.name, v]]) }] : []),
    { weight: 1, arbitrary: hostileString.map((v): Pairs => [[p.name, v]]) },
    { weight: 1, arbitrary: fc.tuple(schemaValue(p.schema), schemaValue(p.schema)).map(([a, b]): Pairs => [[p.name, a], [p.name, b]]) }
  ))
  const extra = fc.oneof({ weight: 6, arbitrary: fc.constant<Pairs>([]) }, { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map((kv): Pairs => [kv]) })
  return fc.tuple(fc.tuple(...entries), extra).map(([parts, more]) => formEncode([...parts.flat(), ...more]))
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
const basicHeader = (id: string, secret: string) => 'Basic ' + b64(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)
/** Header values may only carry visible latin-1 (Node refuses the rest before sending). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 })

function authArb (op: Operation, pools: Pools): fc.Arbitrary<string | undefined> {
  const schemes = op.security.flatMap((alt) => Object.entries(alt))
  const admin = schemes.some(([name, scopes]) => name === 'bearerAuth' && scopes.includes('admin'))
  const bearer = schemes.some(([name]) => name === 'bearerAuth')
  const basic = schemes.some(([name]) => name === 'clientSecretBasic')
  const w = (weight: number, arbitrary: fc.Arbitrary<string | undefined>) => ({ weight, arbitrary })
  const confidential = pickFrom(() => pools.confidential, { id: 'none', secret: 'none' })
  return fc.oneof(
    w(bearer ? 2 : 3, fc.constant(undefined)),
    w(admin ? 10 : 1, fc.constant(0).map(() => `Bearer ${pools.adminToken}`)),
    w(bearer && !admin ? 8 : 2, fc.oneof(fc.constant(0).map(() => `Bearer ${pools.userToken}`), pickFrom(() => pools.accessTokens, 'x').map((tok) => `Bearer ${tok}`))),
    w(1, fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,80}=*$/).map((tok) => `Bearer ${tok}`)),
    w(1, fc.constant(0).map(() => `Bearer ${tamper(pools.userToken)}`)),
    w(1, fc.constantFrom('Bearer', 'Bearer ', 'bearer  x', 'BEARER x', 'Bearer a b', 'Bearer ey.J.x', 'Bearer ====', 'Bearer\tx')),
    w(basic ? 8 : 1, confidential.map((c) => basicHeader(c.id, c.secret))),
    w(basic ? 2 : 1, confidential.map((c) => basicHeader(c.id, c.secret + 'x'))),
    w(1, fc.string({ minLength: 1, maxLength: 20 }).map((id) => basicHeader(id, 'secret'))),
    w(1, fc.constantFrom('Basic', 'Basic ', 'Basic !!!', 'Basic ' + b64('noColon'), 'Basic ' + b64('%ZZ:x'), 'Basic ' + b64(':secret'), 'Basic ' + b64('default:'), 'Basic ' + b64('c1:x:y'), 'basic ' + b64('a:b'), 'Basic ' + b64('\u0000:\u0000'))),
    w(1, headerText),
    w(1, fc.constantFrom('Negotiate abc', 'Digest username="x"', 'DPoP x', ' ', 'Bearer ' + 'a'.repeat(8 * 1024)))
  )
}

/** A signed-looking token with its payload edited (the signature no longer matches). */
function tamper (token: string): string {
  const [h, p, s] = token.split('.')
  if (!p) return token + 'x'
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  claims.scope = 'admin'
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`
}

const extraHeadersArb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-host': 'evil.test' }, { host: 'evil.test' }, { accept: 'text/html' },
      { 'accept-encoding': 'gzip, br' }, { 'content-encoding': 'gzip' }, { origin: 'https://evil.test' }, { 'accept-version': '9.9.9' },
      { 'x-http-method-override': 'DELETE' }, { cookie: 'session=x' }, { 'accept-language': 'x'.repeat(2000) }, { expect: '100-continue' }
    )
  }
)

// Few addresses, so that the per-IP sign-in limit (20 failures a minute) is reached and its 429 fuzzed too.
const IPS = [...Array.from({ length: 6 }, (_, i) => `10.0.0.${i + 1}`), '127.0.0.1', '::1', '::ffff:10.0.0.1']

// ---------------------------------------------------------------------------------------------------------
// requests

export interface GenerationContext {
  pools: Pools
  /** Body limit of the operation's route (bytes). */
  bodyLimit: (op: Operation) => number
}

/** The registered resource the fuzzer's exchanging client `tx1` may exchange tokens for (RFC 8693; harness.ts makes both). */
export const EXCHANGE_TARGET = 'https://fuzz-exchange.test/api'

/** Requests aimed at `op`: its method and path, hostile or valid parameters, body, headers. */
interface Recipe { body: Record<string, unknown>, auth: string | undefined }

/**
 * Whole, coherent requests for the OAuth endpoints (body and client authentication that belong together),
 * which independent per-parameter choices rarely produce: real sign-ins and wrong guesses (so the
 * brute-force limits and their 429 are reached), client_credentials, refresh rotation and reuse,
 * revocation and introspection of live and random tokens (so the introspection limit is reached too).
 */
function recipeArb (op: Operation, pools: Pools): fc.Arbitrary<Recipe> | undefined {
  const user = pickFrom(() => pools.users, { username: 'nobody', password: 'x' })
  const confidential = pickFrom(() => pools.confidential, { id: 'none', secret: 'none' })
  const basicOf = confidential.map((c) => basicHeader(c.id, c.secret))
  const someToken = fc.oneof(pickFrom(() => pools.accessTokens, 'x'), pickFrom(() => pools.refreshTokens, 'x'), fc.base64String({ minLength: 4, maxLength: 64 }))
  const r = (body: fc.Arbitrary<Record<string, unknown>>, auth: fc.Arbitrary<string | undefined>) => fc.record({ body, auth })
  const none = fc.constant(undefined)
  switch (op.id) {
    case 'POST /token': return fc.oneof(
      { weight: 3, arbitrary: r(fc.record({ grant_type: fc.constant('password'), username: fc.constant('alice'), password: fc.constant('a wrong guess') }), none) },
      { weight: 3, arbitrary: r(user.map((u) => ({ grant_type: 'password', username: u.username, password: u.password })), none) },
      { weight: 1, arbitrary: r(user.map((u) => ({ grant_type: 'password', username: u.username, password: u.password, client_id: 'p1', scope: 'read' })), none) },
      { weight: 2, arbitrary: r(fc.constant({ grant_type: 'client_credentials' }), basicOf) },
      { weight: 1, arbitrary: r(fc.record({ grant_type: fc.constant('client_credentials'), scope: fc.constantFrom('read', 'admin') }), basicOf) },
      { weight: 3, arbitrary: r(fc.record({ grant_type: fc.constant('refresh_token'), refresh_token: pickFrom(() => pools.refreshTokens, 'x') }), fc.oneof(none, basicOf)) },
      { weight: 1, arbitrary: r(fc.record({ grant_type: fc.constant('urn:ietf:params:oauth:grant-type:device_code'), device_code: fc.base64String({ minLength: 4, maxLength: 64 }), client_id: fc.constantFrom('tv1', 'p1') }), none) },
      // Token exchange (RFC 8693) by the exchanging client tx1 (or another), of pooled tokens (tx1's own among them).
      {
        weight: 2,
        arbitrary: r(fc.record({
          grant_type: fc.constant('urn:ietf:params:oauth:grant-type:token-exchange'),
          subject_token: someToken,
          subject_token_type: fc.constantFrom('urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:jwt'),
          resource: fc.constantFrom(EXCHANGE_TARGET, 'https://vr0.test/api', 'https://nope.test')
        }, { requiredKeys: ['grant_type', 'subject_token', 'subject_token_type'] }), fc.oneof(fc.constant(0).map(() => {
          const tx = pools.confidential.find((c) => c.id === 'tx1')
          return tx ? basicHeader(tx.id, tx.secret) : undefined
        }), basicOf))
      }
    )
    case 'POST /device_authorization': return fc.oneof(
      { weight: 3, arbitrary: r(fc.record({ client_id: fc.constant('tv1'), scope: fc.constantFrom('openid', 'openid profile', 'read', 'admin', '') }), none) },
      { weight: 1, arbitrary: r(fc.record({ client_id: fc.constantFrom('p1', 'default', 'nobody') }), none) },
      { weight: 1, arbitrary: r(fc.constant({}), basicOf) }
    )
    // Pushed authorization requests (RFC 9126) by the public browser app web1: good ones, and each part spoiled.
    case 'POST /par': return fc.oneof(
      {
        weight: 2,
        arbitrary: r(fc.record({
          client_id: fc.constant('web1'),
          response_type: fc.constant('code'),
          redirect_uri: fc.constant('https://web1.test/cb'),
          scope: fc.constantFrom('openid', 'openid profile'),
          code_challenge: fc.constant('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
          code_challenge_method: fc.constant('S256'),
          state: fc.string({ maxLength: 32 })
        }), none)
      },
      {
        weight: 3,
        arbitrary: r(fc.record({
          client_id: fc.constant('web1'),
          response_type: fc.constantFrom('code', 'token', ''),
          redirect_uri: fc.constantFrom('https://web1.test/cb', 'https://evil.test/cb'),
          scope: fc.constantFrom('openid', 'openid profile', 'read', 'admin'),
          code_challenge: fc.constantFrom('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'short'),
          code_challenge_method: fc.constantFrom('S256', 'plain'),
          state: fc.string({ maxLength: 32 }),
          prompt: fc.constantFrom('login', 'none', 'consent', 'bogus'),
          resource: fc.constantFrom(EXCHANGE_TARGET, 'https://nope.test', 'not a uri')
        }, { requiredKeys: ['client_id', 'response_type', 'redirect_uri', 'code_challenge', 'code_challenge_method'] }), none)
      },
      { weight: 1, arbitrary: r(fc.record({ client_id: fc.constantFrom('p1', 'default', 'nobody', 'tv1'), response_type: fc.constant('code') }), none) },
      { weight: 1, arbitrary: r(fc.record({ response_type: fc.constant('code'), request_uri: fc.constant('urn:ietf:params:oauth:request_uri:x') }), basicOf) }
    )
    case 'POST /introspect': return fc.oneof(
      { weight: 1, arbitrary: r(fc.record({ token: someToken }), basicOf) },
      // One resource server fishing with random tokens: its inactive answers pile up to the limit (429).
      {
        weight: 3,
        arbitrary: r(fc.record({ token: fc.base64String({ minLength: 4, maxLength: 64 }) }), fc.constant(0).map(() => {
          const rs = pools.confidential.find((c) => c.id === 'rs1')
          return rs ? basicHeader(rs.id, rs.secret) : undefined
        }))
      },
      { weight: 1, arbitrary: r(fc.record({ token: someToken, token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'bogus') }), basicOf) }
    )
    case 'POST /revoke': return fc.oneof(
      r(fc.record({ token: someToken }), basicOf),
      r(fc.record({ token: someToken, client_id: fc.constantFrom('p1', 'default') }), none)
    )
    default: return undefined
  }
}

export function requestArb (op: Operation, ctx: GenerationContext): fc.Arbitrary<FuzzRequest> {
  const { pools } = ctx
  const pathParams = op.params.filter((p) => p.in === 'path')
  const path = fc.tuple(...pathParams.map((p) => pathSegment(p.name, pools))).map((values) => {
    let url = op.path
    pathParams.forEach((p, i) => { url = url.replace(`{${p.name}}`, values[i]!) })
    return url
  })
  const bodySchema: Schema = op.body?.schema ?? { type: 'object', properties: { a: { type: 'string' } } }
  const required: string[] = bodySchema.required ?? []
  const form = op.body?.mediaType === 'application/x-www-form-urlencoded'
  const body = fc.record({
    encoding: encodingArb(op.body !== undefined),
    // grant_type is optional in the schema (username + password alone imply it) but needed by most grants.
    value: objectValue(bodySchema, hintsFor(op, pools), form ? { grant_type: 9, username: 8, password: 8, refresh_token: 6, client_id: 2, client_secret: 1 } : {}),
    // A third of the requests are well-formed (documented encoding, no mutation), so success paths are reached.
    clean: fc.nat(2).map((n) => n === 0),
    // Sign in for real: the password of the user the username names (2 times in 5).
    paired: fc.nat(4).map((n) => form && n < 2),
    mutations: fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(mutationArb(bodySchema, required), { minLength: 1, maxLength: 3 }) }),
    garbage: fc.uint8Array({ maxLength: 200 }),
    badJson: fc.constantFrom(...BAD_JSON),
    weirdType: fc.constantFrom(...WEIRD_TYPES)
  })
  const recipes = recipeArb(op, pools)
  // A quarter of an OAuth endpoint's requests follow a recipe (always clean); the rest are schema-driven.
  const recipe: fc.Arbitrary<Recipe | undefined> = recipes ? fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: recipes }) : fc.constant(undefined)
  return fc.record({ path, query: queryArb(op, pools), body, recipe, auth: authArb(op, pools), extra: extraHeadersArb, ip: fc.constantFrom(...IPS) })
    .map(({ path, query, body: b, recipe, auth, extra, ip }) => {
      const value = { ...(recipe?.body ?? b.value) }
      const user = !recipe && b.paired && typeof value.username === 'string' ? pools.users.find((u) => u.username === value.username) : undefined
      if (user && 'password' in value) value.password = user.password
      const clean = b.clean || recipe !== undefined
      const pairs = applyMutations(value, clean ? [] : b.mutations)
      const encoding: Encoding = clean && op.body ? 'documented' : b.encoding
      const extraValue = encoding === 'garbage' ? b.garbage : encoding === 'bad-json' ? b.badJson : b.weirdType
      const documented = op.body?.mediaType ?? 'application/json'
      const encoded = encodeBody({ encoding, pairs, extra: extraValue }, documented, ctx.bodyLimit(op) + 1)
      // Fastify reads no body for GET (and HEAD): there, a big one is simply ignored.
      if (op.method === 'GET') encoded.oversize = false
      const headers: Record<string, string> = { ...extra, ...encoded.headers }
      const authorization = recipe ? recipe.auth : auth
      if (authorization !== undefined) headers.authorization = authorization
      const notes = [`body: ${encoding}${recipe ? ' (recipe)' : ''}`, `mutations: ${clean ? 'none (clean)' : JSON.stringify(b.mutations).slice(0, 300)}`]
      return {
        method: op.method,
        url: query ? `${path}?${query}` : path,
        headers,
        payload: encoded.payload,
        remoteAddress: ip,
        target: 'op' as const,
        oversize: encoded.oversize,
        notes
      }
    })
}

/** Requests next to `op`: a method its path does not have, or a mangled path (404/405 territory). */
export function strayRequestArb (op: Operation, allOps: Operation[], ctx: GenerationContext): fc.Arbitrary<FuzzRequest> {
  // Methods any operation serves on this path: POST /admin/users/import's path is also /admin/users/{username}'s.
  const allowed = new Set(allOps.filter((o) => o.path === op.path || pathPattern(o.path).test(op.path)).map((o) => o.method))
  const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !allowed.has(m) && !(m === 'HEAD'))
  const base = requestArb(op, ctx)
  const wrongMethod = fc.tuple(base, fc.constantFrom(...others)).map(([req, method]): FuzzRequest => ({ ...req, method, target: 'method', notes: [...req.notes, `method ${method}`] }))
  const mangle = fc.constantFrom<(p: string) => string>(
    (p) => p + '/', (p) => p + '/x', (p) => '/x' + p, (p) => p.toUpperCase(), (p) => p.replace(/\//g, '//'),
  (p) => p + '%00', (p) => p + '/..', (p) => p.replace(/[a-z]$/, (c) => '%' + c.charCodeAt(0).toString(16)), (p) => p + '.json', (p) => p.slice(0, -1)
  )
  const wrongPath = fc.tuple(base, mangle).map(([req, f]): FuzzRequest => {
    const [path, query] = req.url.split('?')
    const url = f(path!) + (query ? `?${query}` : '')
    return { ...req, url, target: 'path', notes: [...req.notes, `mangled path ${url.slice(0, 80)}`] }
  })
  return others.length ? fc.oneof(wrongMethod, wrongPath) : wrongPath
}

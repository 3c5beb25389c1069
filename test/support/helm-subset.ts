import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments, stringify } from 'yaml'

/**
 * A renderer for the small subset of Helm's Go templates that deploy/helm/gatehouse uses, for the chart's static test
 * (test/deploy/static.test.ts) on a machine where `helm` cannot be installed (it is in neither Debian's packages nor
 * the npm registry). It is not Helm: it knows `{{ define }}`, `{{ if }}`/`{{ else }}`/`{{ end }}`, comments, the
 * whitespace-trimming markers, pipelines, `.Values.…`, `.Release.…`, `.Chart.…`, and the functions include, printf
 * (%s only), trunc, trimSuffix, default, quote, nindent, indent, toYaml, not and required. Anything else throws, so a
 * template that strays from the subset fails the test instead of rendering wrongly; where `helm` is on PATH the test
 * also runs the real `helm lint` and `helm template`.
 */

type Node =
  | { kind: 'text', text: string }
  | { kind: 'action', expr: string }
  | { kind: 'if', cond: string, then: Node[], else: Node[] }

type Scope = Record<string, unknown>

interface Token { kind: 'text' | 'action', text: string }

function tokenize (source: string): Token[] {
  const tokens: Token[] = []
  let rest = source
  while (rest.length > 0) {
    const open = rest.indexOf('{{')
    if (open < 0) { tokens.push({ kind: 'text', text: rest }); break }
    let text = rest.slice(0, open)
    const close = rest.indexOf('}}', open)
    if (close < 0) throw new Error('unclosed {{')
    let inner = rest.slice(open + 2, close)
    if (inner.startsWith('-')) { text = text.replace(/\s+$/, ''); inner = inner.slice(1) }
    let trimAfter = false
    if (inner.endsWith('-')) { trimAfter = true; inner = inner.slice(0, -1) }
    tokens.push({ kind: 'text', text })
    tokens.push({ kind: 'action', text: inner.trim() })
    rest = rest.slice(close + 2)
    if (trimAfter) rest = rest.replace(/^\s+/, '')
  }
  return tokens.filter((t) => t.kind === 'action' || t.text !== '')
}

function parseTemplate (source: string, defines: Map<string, Node[]>): Node[] {
  const tokens = tokenize(source)
  let i = 0
  function block (terminators: string[]): { nodes: Node[], end: string } {
    const nodes: Node[] = []
    while (i < tokens.length) {
      const token = tokens[i++]!
      if (token.kind === 'text') { nodes.push({ kind: 'text', text: token.text }); continue }
      const action = token.text
      if (action.startsWith('/*')) { if (!action.endsWith('*/')) throw new Error(`bad comment: ${action}`); continue }
      const word = action.split(/\s+/, 1)[0]!
      if (terminators.includes(word)) return { nodes, end: word }
      if (word === 'define') {
        const name = JSON.parse(action.slice(6).trim()) as string
        defines.set(name, block(['end']).nodes)
      } else if (word === 'if') {
        const cond = action.slice(2).trim()
        const then = block(['else', 'end'])
        const otherwise = then.end === 'else' ? block(['end']).nodes : []
        nodes.push({ kind: 'if', cond, then: then.nodes, else: otherwise })
      } else if (['range', 'with', 'template', 'block', 'else', 'end'].includes(word) || word.startsWith('$')) {
        throw new Error(`outside the subset: {{ ${action} }}`)
      } else {
        nodes.push({ kind: 'action', expr: action })
      }
    }
    if (terminators.length > 0) throw new Error(`missing {{ ${terminators.join(' or ')} }}`)
    return { nodes, end: '' }
  }
  return block([]).nodes
}

/** Splits an expression into words, keeping "…" strings whole, and a pipeline on its | signs. */
function words (expr: string): string[] {
  const out = expr.match(/"(?:[^"\\]|\\.)*"|[^\s]+/g)
  return out ?? []
}

function empty (value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return false
}

function format (value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'object') throw new Error('a map or list printed without toYaml')
  return String(value)
}

class Renderer {
  constructor (private readonly defines: Map<string, Node[]>) {}

  render (nodes: Node[], dot: Scope): string {
    let out = ''
    for (const node of nodes) {
      if (node.kind === 'text') out += node.text
      else if (node.kind === 'action') out += format(this.evaluate(node.expr, dot))
      else out += this.render(empty(this.evaluate(node.cond, dot)) ? node.else : node.then, dot)
    }
    return out
  }

  evaluate (expr: string, dot: Scope): unknown {
    const stages = [] as string[][]
    let current: string[] = []
    for (const word of words(expr)) {
      if (word === '|') { stages.push(current); current = [] } else current.push(word)
    }
    stages.push(current)
    let value: unknown
    stages.forEach((stage, n) => {
      if (stage.length === 0) throw new Error(`empty pipeline stage in {{ ${expr} }}`)
      value = this.command(stage, dot, n === 0 ? [] : [value])
    })
    return value
  }

  private operand (word: string, dot: Scope): unknown {
    if (word.startsWith('"')) return JSON.parse(word)
    if (/^-?\d+$/.test(word)) return Number(word)
    if (word === '.') return dot
    if (word.startsWith('.')) {
      let value: unknown = dot
      for (const key of word.slice(1).split('.')) {
        value = value !== null && typeof value === 'object' ? (value as Scope)[key] : undefined
      }
      return value
    }
    throw new Error(`outside the subset: ${word}`)
  }

  private command ([head, ...rest]: string[], dot: Scope, piped: unknown[]): unknown {
    const fn = FUNCTIONS[head!]
    if (head === 'include') {
      const [name, scope] = [...rest.map((w) => this.operand(w, dot)), ...piped] as [string, Scope]
      const body = this.defines.get(name)
      if (body === undefined) throw new Error(`include: no template ${name}`)
      return this.render(body, scope)
    }
    if (fn === undefined) {
      if (rest.length > 0 || piped.length > 0) throw new Error(`outside the subset: ${head} with arguments`)
      return this.operand(head!, dot)
    }
    return fn(...rest.map((w) => this.operand(w, dot)), ...piped)
  }
}

function indentLines (n: number, text: string): string {
  return text.split('\n').map((line) => ' '.repeat(n) + line).join('\n')
}

const FUNCTIONS: Record<string, (...args: any[]) => unknown> = {
  printf: (pattern: string, ...args: unknown[]) => {
    let i = 0
    return pattern.replace(/%[sv]/g, () => format(args[i++]))
  },
  trunc: (n: number, s: string) => s.slice(0, n),
  trimSuffix: (suffix: string, s: string) => s.endsWith(suffix) ? s.slice(0, -suffix.length) : s,
  default: (fallback: unknown, value: unknown) => empty(value) ? fallback : value,
  quote: (value: unknown) => JSON.stringify(format(value)),
  nindent: (n: number, s: string) => '\n' + indentLines(n, s),
  indent: (n: number, s: string) => indentLines(n, s),
  toYaml: (value: unknown) => stringify(value).replace(/\n$/, ''),
  not: (value: unknown) => empty(value),
  required: (message: string, value: unknown) => {
    if (empty(value)) throw new Error(`required: ${message}`)
    return value
  }
}

function deepMerge (base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (base === null || typeof base !== 'object' || Array.isArray(base) || over === null || typeof over !== 'object' || Array.isArray(over)) return over
  const out: Scope = { ...(base as Scope) }
  for (const [key, value] of Object.entries(over as Scope)) out[key] = deepMerge(out[key], value)
  return out
}

export interface Rendered { template: string, documents: Array<Record<string, any>> }

/**
 * `helm template RELEASE CHART --set …` for the subset: the chart's values.yaml merged with `values`, every file
 * of templates/ rendered (the _*.tpl files for their defines only), each split into its non-empty YAML documents.
 */
export function renderChart (chartDir: string, release: string, values: Record<string, unknown> = {}, namespace = 'default'): Rendered[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Scope
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Scope
  const root: Scope = {
    Values: deepMerge(defaults, values),
    Release: { Name: release, Namespace: namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion }
  }
  const defines = new Map<string, Node[]>()
  const dir = join(chartDir, 'templates')
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|tpl)$/.test(f)).sort()
  const parsed = files.map((file) => ({ file, nodes: parseTemplate(readFileSync(join(dir, file), 'utf8'), defines) }))
  const renderer = new Renderer(defines)
  const out: Rendered[] = []
  for (const { file, nodes } of parsed) {
    if (file.startsWith('_')) continue
    const text = renderer.render(nodes, root)
    const documents = parseAllDocuments(text).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}\n${text}`)
      return doc.toJS() as Record<string, any> | null
    }).filter((doc): doc is Record<string, any> => doc !== null)
    out.push({ template: file, documents })
  }
  return out
}

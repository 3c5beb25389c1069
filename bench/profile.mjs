/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, and self time
 * grouped by where the code lives (a package under node_modules, Gatehouse's own dist/ files, Node's
 * internals, native code).  Usage: node bench/profile.mjs FILE.cpuprofile [TOP=25]
 */
import { readFileSync } from 'node:fs'

const [file, top = '25'] = process.argv.slice(2)
if (!file) { console.error('usage: node bench/profile.mjs FILE.cpuprofile [TOP]'); process.exit(1) }
const profile = JSON.parse(readFileSync(file, 'utf8'))

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
let total = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  self.set(id, (self.get(id) ?? 0) + dt)
  total += dt
})

const where = (url) => {
  if (!url) return '(native / VM)'
  if (url.startsWith('node:')) return 'node: internals'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]
  const own = /\/dist\/(.*)$/.exec(url)
  return own ? `gatehouse ${own[1].split('/').slice(0, -1).join('/') || '.'}` : url
}

const functions = new Map()
const places = new Map()
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame
  const name = `${functionName || '(anonymous)'}  ${url ? url.replace(/^.*\/(node_modules|dist)\//, '$1/') + ':' + (lineNumber + 1) : ''}`
  functions.set(name, (functions.get(name) ?? 0) + us)
  places.set(where(url), (places.get(where(url)) ?? 0) + us)
}
const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((s, [, us]) => s + us, 0)

const pct = (us) => `${(100 * us / total).toFixed(1).padStart(5)}%`
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${pct(idle).trim()} idle\n\nself time by function:`)
for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`${pct(us)}  ${name}`)
console.log('\nself time by place:')
for (const [name, us] of [...places].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${name}`)

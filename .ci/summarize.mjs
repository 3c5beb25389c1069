// Reads tap's TAP output (stdin) and prints the failing test points, then one line:
// "N passed, N failed" counting leaf assertions (a subtest's own closing point is not counted again).
import { Parser } from 'tap-parser'

let passed = 0
let failed = 0
let skipped = 0
const failures = []

function watch (parser, path) {
  const children = new Set()
  parser.on('child', (child) => {
    children.add(child)
    watch(child, [...path, child.name])
  })
  parser.on('assert', (res) => {
    const closing = [...children].find((c) => c.name === res.name || res.name.startsWith(c.name))
    if (closing) { children.delete(closing); return }
    if (res.skip || res.todo) skipped++
    else if (res.ok) passed++
    else { failed++; failures.push({ name: [...path, res.name].join(' > '), diag: res.diag }) }
  })
}

const parser = new Parser()
watch(parser, [])
parser.on('complete', (results) => {
  for (const f of failures) {
    console.log(`not ok: ${f.name}`)
    if (f.diag) console.log(JSON.stringify(f.diag, null, 2).split('\n').slice(0, 40).map((l) => '    ' + l).join('\n'))
  }
  // A bail-out or a crashed file shows up as a failing top-level point; count it even if it had no leaves.
  if (!results.ok && failed === 0) failed = 1
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
})
process.stdin.pipe(parser)

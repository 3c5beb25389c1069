// Reads tap's TAP output (stdin) and prints the failing test points, then one line:
// "N passed, N failed" counting leaf assertions (a subtest's own closing point is not counted again). Given files
// (`[label=]path`), it does so for each and ends with their total.
import { createReadStream } from 'node:fs'
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

/** One TAP stream: its failures, then its count. */
function summarize (input) {
  passed = 0
  failed = 0
  skipped = 0
  failures.length = 0
  return new Promise((resolve) => {
    const parser = new Parser()
    watch(parser, [])
    parser.on('complete', (results) => {
      for (const f of failures) {
        console.log(`not ok: ${f.name}`)
        if (f.diag) console.log(JSON.stringify(f.diag, null, 2).split('\n').slice(0, 40).map((l) => '    ' + l).join('\n'))
      }
      // A bail-out or a crashed file shows up as a failing top-level point; count it even if it had no leaves.
      if (!results.ok && failed === 0) failed = 1
      resolve({ passed, failed, skipped })
    })
    input.pipe(parser)
  })
}

const line = ({ passed, failed, skipped }) => `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`

// `node .ci/summarize.mjs < tap.txt`, or several files (`[label=]path`): each labelled one's own count, then the total.
const inputs = process.argv.slice(2)
if (inputs.length === 0) {
  console.log(line(await summarize(process.stdin)))
} else {
  const total = { passed: 0, failed: 0, skipped: 0 }
  for (const [i, input] of inputs.entries()) {
    const eq = input.indexOf('=')
    const [label, path] = eq > 0 ? [input.slice(0, eq), input.slice(eq + 1)] : [undefined, input]
    const count = await summarize(createReadStream(path))
    if (label !== undefined || i > 0) console.log(`${label ?? path}: ${line(count)}`)
    for (const key of Object.keys(total)) total[key] += count[key]
  }
  console.log(line(total))
}

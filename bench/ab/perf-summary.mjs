import { readFileSync } from 'node:fs'
// Summary of perf-driver.mjs results (see issue9-perf.md): node perf-summary.mjs OUTDIR/results.json... (reps pooled across files)
// node perf-pool.mjs results.json... : pools reps across files (rep ids made unique per file)
const results = process.argv.slice(2).flatMap((f, i) => JSON.parse(readFileSync(f, 'utf8')).results.map((r) => ({ ...r, rep: `${i}-${r.rep}` })))
const servers = [...new Set(results.map((r) => r.server))]
const base = servers[0]
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); const i = p * (s.length - 1); const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo) }
for (const k of ['mainUs', 'totalUs']) {
  console.log(`\n${k}: median µs/req [IQR] ; paired ratio vs ${base} median [IQR]`)
  for (const c of ['me', 'cc', 'refresh']) {
    const get = (s) => results.filter((r) => r.case === c && r.server === s)
    const bv = get(base)
    console.log(`| ${c} | ` + servers.map((s) => {
      const rs = get(s); const v = rs.map((r) => r[k])
      const pr = rs.map((r) => r[k] / bv.find((x) => x.rep === r.rep)[k])
      return s === base ? `${q(v, 0.5).toFixed(0)} [${q(v, 0.25).toFixed(0)}–${q(v, 0.75).toFixed(0)}]` : `${q(v, 0.5).toFixed(0)} [${q(v, 0.25).toFixed(0)}–${q(v, 0.75).toFixed(0)}] ×${q(pr, 0.5).toFixed(2)} [${q(pr, 0.25).toFixed(2)}–${q(pr, 0.75).toFixed(2)}] ${pr.filter((x) => x > 1).length}/${pr.length}>1`
    }).join(' | ') + ` | n=${bv.length}`)
  }
}

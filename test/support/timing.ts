/**
 * Timing comparisons for the enumeration tests (SECURITY-CASES U1 and P4): do two kinds of request (a taken and a
 * new e-mail, an unknown user and a wrong password) take the same time?
 *
 * Why paired differences, not two medians. The tests run in CI beside other test files on two cores. There a
 * try's time is bimodal: the request's own cost, or that plus a wait for a core (each hand-off to libuv's thread
 * pool and back can wait one). Two medians of 100 such tries each sit wherever the split between the modes falls
 * in that batch, and were seen 20-40 % apart, either way round, for requests that do the same work. So the tries
 * are run in pairs, one of each kind back to back (which goes first alternating), and the judgement is on the
 * median of the pairs' differences a_i - b_i: a neighbour's burst that lasts a pair slows both members, and one
 * that catches a single member moves that difference up or down alike for either kind, which a median sets aside.
 * A real gap does not: a side that always costs d ms more moves every difference, and so their median, by d.
 * The estimate is judged against the larger side's median (the bound is relative, as the case is written).
 *
 * A round outside the bound is followed by another (up to `maxRounds`), and all pairs are judged together: more
 * pairs make a noise-made gap shrink, never a real one.
 *
 * What load still does: it stretches the median a wall-clock gap is measured against (the waits for a core), so a
 * real gap of a few milliseconds reads as a smaller share of it on a loaded machine. Hence the tests measure each
 * try's CPU time as well (`measure`) and judge both: CPU time leaves out the waits, so work one side does and the
 * other does not shows there at about its quiet size whatever the load (u-accounts' inline check on SQLite: 25-30 %
 * in both measures on a quiet machine; 5-23 % in the wall clock with three busy processes beside it, 16-21 % in CPU
 * time).
 */
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'

/** One try's measures in milliseconds, by name: `{ ms }`, or several taken from the same try (`{ wall, cpu }`). */
export type Measures<K extends string> = Record<K, number>

export interface PairedOptions<K extends string> {
  /** One try of the first kind: runs it, returns what it measured. */
  a: () => Promise<Measures<K>>
  /** One try of the second kind. */
  b: () => Promise<Measures<K>>
  /** Pairs per round. */
  pairs: number
  /** Pairs run first and not kept (JIT, caches, pool threads' memory). Default none. */
  warmUp?: number
  /** The bound on the paired estimate relative to the larger median (0.10: within 10 %). */
  within: number
  /** At most this many rounds (default 3): a round outside the bound is followed by another while any are left. */
  maxRounds?: number
  /** The measures judged (default: every measure the first try returned); the others are only reported. */
  judge?: ReadonlyArray<NoInfer<K>>
}

/** What the samples say about one measure. */
export interface Estimate {
  /** The plain median of each side. */
  a: number
  b: number
  /** The median of the pairs' differences a_i - b_i: how much longer a takes (negative: b takes longer). */
  paired: number
  /** |paired| over the larger of the two medians: what is judged. */
  gap: number
  /** |a - b| over the larger median: what two unpaired medians would say (reported, not judged). */
  plainGap: number
}

export interface Comparison<K extends string> {
  /** Every judged measure's gap is under the bound. */
  within: boolean
  rounds: number
  /** Pairs kept (warm-up excluded). */
  pairs: number
  estimates: Record<K, Estimate>
  /** The kept samples, in order: a[i] and b[i] are pair i. */
  samples: { a: Array<Measures<K>>, b: Array<Measures<K>> }
  /**
   * One line for an assertion's message, naming the sides: the paired estimate, the pairs and rounds, and the
   * plain medians. `digits`: decimals of the milliseconds shown (default 2).
   */
  describe: (key: K, names: readonly [string, string], digits?: number) => string
}

export function median (values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of no values')
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The estimate for `key` over paired samples (a[i] and b[i] measured back to back). */
export function estimate<K extends string> (a: ReadonlyArray<Measures<K>>, b: ReadonlyArray<Measures<K>>, key: K): Estimate {
  if (a.length !== b.length) throw new Error(`unpaired samples: ${a.length} and ${b.length}`)
  const ma = median(a.map((s) => s[key]))
  const mb = median(b.map((s) => s[key]))
  const paired = median(a.map((s, i) => s[key] - b[i]![key]))
  const larger = Math.max(ma, mb)
  return { a: ma, b: mb, paired, gap: Math.abs(paired) / larger, plainGap: Math.abs(ma - mb) / larger }
}

const percent = (x: number) => `${(x * 100).toFixed(1)} %`

/**
 * Runs tries of `a` and `b` in pairs, alternating which goes first, and compares them (see the top of this file).
 * Tries run one at a time; each try should leave the process quiet (its deferred work done) before it returns.
 */
export async function comparePaired<K extends string> (options: PairedOptions<K>): Promise<Comparison<K>> {
  const { a, b, pairs, warmUp = 0, within, maxRounds = 3 } = options
  const samples = { a: [] as Array<Measures<K>>, b: [] as Array<Measures<K>> }
  let order = 0
  const pair = async (): Promise<[Measures<K>, Measures<K>]> => {
    // Which side goes first alternates, so whatever the first of a pair pays (or leaves to the second) is shared.
    if (order++ % 2 === 0) { const x = await a(); return [x, await b()] }
    const y = await b()
    return [await a(), y]
  }
  for (let i = 0; i < warmUp; i++) await pair()

  let rounds = 0
  let estimates = {} as Record<K, Estimate>
  let inside = false
  while (rounds < maxRounds && (rounds === 0 || !inside)) {
    rounds++
    for (let i = 0; i < pairs; i++) {
      const [x, y] = await pair()
      samples.a.push(x)
      samples.b.push(y)
    }
    const keys = Object.keys(samples.a[0]!) as K[]
    estimates = Object.fromEntries(keys.map((key) => [key, estimate(samples.a, samples.b, key)])) as Record<K, Estimate>
    inside = (options.judge ?? keys).every((key) => estimates[key].gap < within)
  }

  const describe = (key: K, [nameA, nameB]: readonly [string, string], digits = 2): string => {
    const e = estimates[key]
    const ms = (x: number) => `${x.toFixed(digits)} ms`
    const sign = e.paired >= 0 ? '+' : '-'
    return `paired ${percent(e.gap)} (${nameA} - ${nameB}: ${sign}${ms(Math.abs(e.paired))} median over ${samples.a.length} pairs` +
      `${rounds > 1 ? `, ${rounds} rounds` : ''}); plain medians ${nameA} ${ms(e.a)}, ${nameB} ${ms(e.b)} (${percent(e.plainGap)})`
  }
  return { within: inside, rounds, pairs: samples.a.length, estimates, samples, describe }
}

/** What one timed piece of work took, in milliseconds. */
export interface Took { wall: number, cpu: number }

/**
 * Runs `work` and measures it: the wall-clock time, and the CPU time the process used meanwhile (every thread of
 * it: libuv's pool, where argon2 runs, too). Judge both: CPU time does not count waits for a core, so a load that
 * stretches every wall time (and so the median a wall-time gap is measured against) leaves it as on a quiet
 * machine, and work one side does and the other does not shows there whatever the load; work that waits (a
 * database round trip) shows only in the wall time.
 */
export async function measure<T> (work: () => Promise<T>): Promise<Took & { result: T }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const result = await work()
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { result, wall, cpu: (used.user + used.system) / 1000 }
}

/**
 * Lets work already queued for the next turn of the event loop (a `setImmediate` nudge, such as the mail
 * plugin's after `send`) start, so a try can wait for it before the next is timed; see the tests' `delivered`.
 */
export const turn = async (): Promise<void> => { await nextTurn() }

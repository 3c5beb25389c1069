import type { PrimaryChannel } from '../../lib/limits/primary-channel.js'

/**
 * WORKERS without a real cluster, for unit tests of what workers ask their primary (lib/limits/primary-channel.ts):
 * `workers` channels to one primary that answers each message with `answer(message)` (undefined: no reply). The
 * channel is a queue in this process that delivers each message, and each reply, a random number of turns later and
 * as a JSON copy, so the questions of several "workers" interleave as over real IPC (test/process/ runs real
 * processes). `answering: false` makes a primary that never answers.
 */
export function fakeCluster (answer: (message: unknown) => unknown, workers: number, answering = true): PrimaryChannel[] {
  const later = (fn: () => void) => {
    let turns = Math.floor(Math.random() * 4)
    const tick = () => turns-- > 0 ? setImmediate(tick) : fn()
    setImmediate(tick)
  }
  return Array.from({ length: workers }, () => {
    const listeners: Array<(m: unknown) => void> = []
    return {
      send: (message) => later(() => {
        const reply = answering ? answer(JSON.parse(JSON.stringify(message))) : undefined
        if (reply !== undefined) later(() => { for (const l of listeners) l(JSON.parse(JSON.stringify(reply))) })
      }),
      onMessage: (listener) => { listeners.push(listener) },
      connected: () => true
    }
  })
}

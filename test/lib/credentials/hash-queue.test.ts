import t from 'tap'
import { OAuthError } from '../../../lib/errors.js'
import { HashQueue } from '../../../lib/credentials/passwords.js'

/**
 * The password-hash queue (issue 10, defect 4) without hashing: tasks that finish when the test says so.
 * Bounded (beyond its capacity: 503 temporarily_unavailable with Retry-After at once), fair (round-robin by
 * address; one address or account holds at most a tenth of it, at least 2).
 */
function gate () {
  let open!: () => void
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, task: () => opened }
}

t.test('bounded, refused at once beyond capacity or an address\'s share, served round-robin by address', async (t) => {
  // Nothing measured yet: 1 ms a hash is assumed, so 4 ms of drain time on one slot is a capacity of 4.
  const queue = new HashQueue(1, 4)
  t.equal(queue.capacity, 4)
  const served: string[] = []
  const gates = new Map<string, ReturnType<typeof gate>>()
  const submit = (name: string, address: string, account = name) => {
    const g = gate()
    gates.set(name, g)
    return queue.run(async () => { served.push(name); await g.task() }, { address, account })
  }
  const refused = async (promise: Promise<unknown>, label: string) => {
    const err = await promise.then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof OAuthError && err.error === 'temporarily_unavailable' && err.statusCode === 503, `${label}: 503 temporarily_unavailable`)
    t.match((err as OAuthError).headers['retry-after'], /^[1-9]\d*$/, `${label}: Retry-After`)
  }

  const running = submit('a0', 'A')
  const a1 = submit('a1', 'A')
  const a2 = submit('a2', 'A')
  await refused(submit('a3', 'A'), 'a third waiting hash from one address')
  const b1 = submit('b1', 'B')
  t.equal(queue.active + queue.waiting, 4, 'full')
  await refused(submit('c1', 'C'), 'a new address when the queue is full')
  t.same(served, ['a0'])

  const finish = async (name: string) => { gates.get(name)!.open(); await new Promise((resolve) => setImmediate(resolve)) }
  await finish('a0')
  await running
  await finish('a1')
  await a1
  await finish('b1')
  await b1
  await finish('a2')
  await a2
  t.same(served, ['a0', 'a1', 'b1', 'a2'], 'B is served before A\'s second waiting hash')
  t.equal(queue.active + queue.waiting, 0, 'drained')
})

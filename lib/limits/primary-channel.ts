import cluster from 'node:cluster'

/**
 * WORKERS > 1: state that must be one per machine (rate-limit counters, lib/limits/cluster-counters.ts; the DPoP
 * replay memory, lib/oauth/cluster-proof-replay.ts) lives in the primary, and each worker asks for every step over
 * node:cluster's IPC channel. This is the asking and answering, the same for each: a question carries an id and a
 * tag, the primary answers it at once, synchronously (one step at a time: the whole of a step's atomicity), and a
 * worker that gets no answer within its timeout hears `undefined`, so that it refuses the step rather than act alone.
 */

/** How a worker talks to its primary (process.send and its 'message' events; tests pass their own). */
export interface PrimaryChannel {
  send (message: unknown): void
  onMessage (listener: (message: unknown) => void): void
  connected (): boolean
}

export const processChannel = (): PrimaryChannel => ({
  send: (message) => { process.send?.(message) },
  onMessage: (listener) => { process.on('message', listener) },
  connected: () => process.connected === true
})

/** A message of one kind: `{ gatehouse: tag, id, … }`. */
export const isTagged = (tag: string) => (m: unknown): m is { gatehouse: string, id: number } =>
  typeof m === 'object' && m !== null && (m as { gatehouse?: unknown }).gatehouse === tag && typeof (m as { id?: unknown }).id === 'number'

/**
 * In a worker: questions tagged `asking`, each resolved with the primary's reply tagged `answering` and the same id,
 * or with undefined when the channel is closed, or no reply came within `timeoutMs` (a late reply is dropped).
 */
export class PrimaryQuestions<Reply extends { id: number }> {
  #next = 0
  readonly #pending = new Map<number, { resolve: (reply: Reply | undefined) => void, timer: NodeJS.Timeout }>()

  constructor (private readonly asking: string, answering: string, private readonly channel: PrimaryChannel, private readonly timeoutMs: number) {
    const isReply = isTagged(answering)
    channel.onMessage((message) => {
      if (!isReply(message)) return
      const pending = this.#pending.get(message.id)
      if (!pending) return // answered after its timeout: the step was refused already
      this.#pending.delete(message.id)
      clearTimeout(pending.timer)
      pending.resolve(message as unknown as Reply)
    })
  }

  async ask (question: Record<string, unknown>): Promise<Reply | undefined> {
    if (!this.channel.connected()) return undefined
    const id = ++this.#next
    return new Promise<Reply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        resolve(undefined)
      }, this.timeoutMs)
      this.#pending.set(id, { resolve, timer })
      this.channel.send({ ...question, gatehouse: this.asking, id })
    })
  }

  /** Every question still waiting hears undefined now. */
  close (): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer)
      pending.resolve(undefined)
    }
    this.#pending.clear()
  }
}

/**
 * In the primary: answers every worker's messages that `answer` knows (it returns undefined for the others), at
 * once. Returns the function that stops answering.
 */
export function answerWorkers (answer: (message: unknown) => unknown): () => void {
  const listener = (worker: { send: (m: unknown) => boolean, isConnected: () => boolean }, message: unknown) => {
    const reply = answer(message)
    if (reply !== undefined && worker.isConnected()) worker.send(reply)
  }
  cluster.on('message', listener)
  return () => { cluster.off('message', listener) }
}

import { temporarilyUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors.js'
import { PRIMARY_TIMEOUT_MS } from '../limits/cluster-counters.js'
import { answerWorkers, isTagged, PrimaryQuestions, processChannel, type PrimaryChannel } from '../limits/primary-channel.js'
import { MAX_JTI_LENGTH, PROOF_JTI_LIFETIME_SECONDS } from './dpop-proof.js'
import { ProofReplayFull, type MemoryProofReplay, type ProofReplay } from './dpop-replay.js'

/**
 * WORKERS > 1 without Redis: every worker's DPoP replay memory is the primary's (RFC 9449 §11.1: a proof is accepted
 * once per machine, not once per worker process). Before this, each worker remembered its own proofs, and the same
 * proof sent on another connection, which the primary hands to another worker, got a second token. The primary
 * holds one MemoryProofReplay (bounded, expiring, refusing rather than evicting when full) and runs each worker's
 * first-use check on it synchronously, between two IPC messages: one check at a time, so a proof sent to every
 * worker at once is recorded by the first and refused to the others, with no check-then-act gap between them.
 *
 * As with the rate-limit counters (lib/limits/cluster-counters.ts), a primary that does not answer within
 * PRIMARY_TIMEOUT_MS means the proof is refused (503 temporarily_unavailable): a worker never accepts a proof it
 * could not record where the others look. With REDIS_URL, Redis holds the proofs, and the primary's memory is the
 * fallback while Redis is away. Cost: one IPC round trip per proof (~85 µs, bench/README.md).
 */

type FirstUseQuestion = { gatehouse: 'dpop-first-use', id: number, key: string, ttlSeconds: number }
type FirstUseReply =
  | { gatehouse: 'dpop-first-used', id: number, first: boolean }
  | { gatehouse: 'dpop-first-used', id: number, full: number }
  | { gatehouse: 'dpop-first-used', id: number, failed: string }

const isQuestion = isTagged('dpop-first-use') as (m: unknown) => m is FirstUseQuestion

/** The longest key a worker may ask about: `<thumbprint>:<jti>` (a SHA-256 thumbprint is 43 characters). */
const MAX_KEY_LENGTH = 44 + MAX_JTI_LENGTH

/**
 * The primary's answer to one message from a worker, or undefined when the message is not a first-use question.
 * Runs the check at once, synchronously, on `memory`: the whole of its atomicity across workers.
 */
export function answerFirstUse (memory: MemoryProofReplay, message: unknown): FirstUseReply | undefined {
  if (!isQuestion(message)) return undefined
  const { id, key, ttlSeconds } = message
  // The workers are this server's own processes; still, only what a proof's check can ask is run.
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > PROOF_JTI_LIFETIME_SECONDS) {
    return { gatehouse: 'dpop-first-used', id, failed: 'not a first-use question' }
  }
  try {
    return { gatehouse: 'dpop-first-used', id, first: memory.firstUseNow(key, ttlSeconds) }
  } catch (err) {
    if (err instanceof ProofReplayFull) return { gatehouse: 'dpop-first-used', id, full: err.retryAfter }
    return { gatehouse: 'dpop-first-used', id, failed: err instanceof Error ? err.message : String(err) }
  }
}

/** In the primary: answers every worker's first-use questions from `memory`. Returns the function that stops. */
export function shareProofReplay (memory: MemoryProofReplay): () => void {
  return answerWorkers((message) => answerFirstUse(memory, message))
}

/** In a worker: the primary's replay memory (one IPC round trip per proof); refused (503) when it does not answer. */
export class ClusterProofReplay implements ProofReplay {
  readonly #primary: PrimaryQuestions<FirstUseReply>

  constructor (channel: PrimaryChannel = processChannel(), timeoutMs = PRIMARY_TIMEOUT_MS) {
    this.#primary = new PrimaryQuestions('dpop-first-use', 'dpop-first-used', channel, timeoutMs)
  }

  async firstUse (key: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.#primary.ask({ key, ttlSeconds })
    if (reply === undefined || 'failed' in reply) {
      throw temporarilyUnavailable(UNAVAILABLE_RETRY_AFTER_SECONDS, 'the DPoP replay memory cannot be reached; try again shortly')
    }
    if ('full' in reply) throw new ProofReplayFull(reply.full)
    return reply.first
  }

  close (): void {
    this.#primary.close()
  }
}

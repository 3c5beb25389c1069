import type { CounterKind, CounterScript, Throttle } from '../limits/throttle.js'

/**
 * The sign-in reservation protocol (SECURITY-CASES P5): a password attempt is counted before its hash is computed,
 * in one atomic step, so N parallel guesses hash at most the limit; once the hash has answered, the attempt is
 * settled exactly once. Each step is a CounterScript (lib/limits/throttle.ts): a Lua script for counters shared
 * through Redis and its twin for one process's counters, which test/lib/oauth/sign-in-reservation.test.ts holds to
 * the same answers. The keys and limits are lib/oauth/brute-force.ts's.
 */

/**
 * The counters of one password sign-in attempt (lib/oauth/brute-force.ts names them): the account's failures,
 * the address's failed accounts (each (address, account) pair counts once, through `pair`), and the account's
 * attempts still being verified (`inFlight`).
 */
export interface SignInKeys {
  account: string
  address: string
  pair: string
  inFlight: string
}

export interface SignInLimits {
  account: { max: number, windowSeconds: number }
  address: { max: number, windowSeconds: number }
}

/** What became of a reserved attempt: a wrong guess, a right one, or nothing verified at all. */
export type SettleOutcome = 'failure' | 'success' | 'release'

/** Admitted (its counters were incremented before any hash), or refused for `retryAfter` seconds. */
export type Reservation = { ok: true } | { ok: false, retryAfter: number }

/** How long an in-flight mark outlives a process that died while hashing. */
export const IN_FLIGHT_TTL_SECONDS = 120

/** The order of the keys in every script's KEYS, and the kind of each (which of a process's counter stores holds it). */
const keyList = (keys: SignInKeys): string[] => [keys.account, keys.address, keys.pair, keys.inFlight]
const KINDS: readonly CounterKind[] = ['account', 'address', 'address', 'account']

/** Refused until the counter that refused resets: at least a second. */
const refused = (msLeft: number | undefined): Reservation => ({ ok: false, retryAfter: Math.max(1, Math.ceil((msLeft ?? 0) / 1000)) })

/**
 * Reservation: refused when the account has reached its limit, or when the pair is new and the address has reached
 * its limit; otherwise the account counter, the pair (and, for a new pair, the address counter) and the in-flight
 * count are incremented. The pair lives as long as the address's window; the in-flight mark IN_FLIGHT_TTL_SECONDS.
 */
export const RESERVE: CounterScript<SignInLimits, Reservation> = {
  name: 'sign-in/reserve',
  kinds: KINDS,
  creates: true,
  lua: `
local function wait (key)
  local t = redis.call('PTTL', key)
  if t < 1 then t = 1000 end
  return t
end
local account = tonumber(redis.call('GET', KEYS[1]) or '0')
if account >= tonumber(ARGV[1]) then return {0, wait(KEYS[1])} end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local address = tonumber(redis.call('GET', KEYS[2]) or '0')
  if address >= tonumber(ARGV[3]) then return {0, wait(KEYS[2])} end
  if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('INCR', KEYS[3])
local left = redis.call('PTTL', KEYS[2])
if left < 1 then left = tonumber(ARGV[4]) end
redis.call('PEXPIRE', KEYS[3], left)
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[5])
return {1, 0}
`,
  argv: (limits) => [limits.account.max, limits.account.windowSeconds * 1000, limits.address.max, limits.address.windowSeconds * 1000, IN_FLIGHT_TTL_SECONDS * 1000],
  decode (reply) {
    const [ok, ms] = reply as [number, number]
    return ok === 1 ? { ok: true } : refused(ms)
  },
  local (counters, [account, address, pair, inFlight], limits) {
    if (counters.count(account!) >= limits.account.max) return refused(counters.msLeft(account!))
    if (!counters.has(pair!)) {
      if (counters.count(address!) >= limits.address.max) return refused(counters.msLeft(address!))
      counters.incr(address!, limits.address.windowSeconds * 1000)
    }
    counters.incr(account!, limits.account.windowSeconds * 1000)
    counters.incrFor(pair!, counters.msLeft(address!) ?? limits.address.windowSeconds * 1000)
    counters.incrFor(inFlight!, IN_FLIGHT_TTL_SECONDS * 1000)
    return { ok: true }
  }
}

/**
 * Settlement. A failure keeps what it reserved (it is the failure count). A success gives back its own
 * reservation: the pair's (and the address's, when that was the pair's last attempt), and the account's, or
 * clears the account's failures when no other attempt on it is in flight. So a success never resets an address,
 * nor an account while other guesses on it are being verified. A release (nothing was verified: the store or the
 * hash queue refused) gives back its own reservation and clears nothing.
 */
export const SETTLE: CounterScript<SettleOutcome, void> = {
  name: 'sign-in/settle',
  kinds: KINDS,
  creates: false,
  lua: `
local inflight = redis.call('DECR', KEYS[4])
if inflight <= 0 then redis.call('DEL', KEYS[4]) end
if ARGV[1] == 'failure' then return 0 end
if ARGV[1] == 'success' and inflight <= 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('DECR', KEYS[3]) <= 0 then
  redis.call('DEL', KEYS[3])
  if redis.call('EXISTS', KEYS[2]) == 1 and redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end
end
return 1
`,
  argv: (outcome) => [outcome],
  decode: () => undefined,
  local (counters, [account, address, pair, inFlight], outcome) {
    const stillInFlight = counters.decr(inFlight!)
    if (outcome === 'failure') return
    if (outcome === 'success' && stillInFlight === 0) counters.delete(account!)
    else counters.decr(account!)
    if (counters.has(pair!) && counters.decr(pair!) === 0) counters.decr(address!)
  }
}

/**
 * Reserves one password sign-in attempt before it is verified: refused with the seconds to wait, or admitted
 * with the `settle` to call once the hash has answered (exactly once). An attempt reserved in this process's
 * counters (Redis unavailable) is settled there; one reserved in Redis is settled in Redis, or not at all when
 * Redis has gone away meanwhile (its counters expire by themselves).
 */
export async function reserveSignIn (throttle: Throttle, keys: SignInKeys, limits: SignInLimits): Promise<{ retryAfter: number } | { settle: (outcome: SettleOutcome) => Promise<void> }> {
  const list = keyList(keys)
  const { result, place } = await throttle.run(RESERVE, list, limits)
  if (!result.ok) return { retryAfter: result.retryAfter }
  return {
    settle: async (outcome) => { await throttle.run(SETTLE, list, outcome, { place, unavailable: () => undefined }) }
  }
}

/** Every counter script of the sign-in protocol, for a WORKERS primary that runs them for its workers (server.ts). */
export const SIGN_IN_SCRIPTS: ReadonlyArray<CounterScript<never, unknown>> = [RESERVE, SETTLE] as ReadonlyArray<CounterScript<never, unknown>>

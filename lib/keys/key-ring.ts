import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { StoreUnavailableError } from '../errors.js'
import type { KeyStore, SigningKey } from '../stores/types.js'
import { INSTANCE_STALE_SECONDS, jwksMaxAge, retainSeconds, trustedFor, type KeyTimingSettings } from './key-timing.js'
import { DEFAULT_ACCESS_TOKEN_ALG, type SigningAlg } from './algorithm.js'
import { ensureSigningKey, keyLifecycle, loadKey, rotateSigningKey, rotationOf, signingKeysAt, type InitialKeyMaterial, type KeySet, type LoadedKey, type PublicJwk, type Rotation } from './signing-keys.js'

/** The settings the key ring reads (structural: lib/keys/ imports nothing of lib/config.ts). */
export interface KeyRingSettings extends KeyTimingSettings {
  accessTokenTtl: number
  /** Which key `current().active` names (ACCESS_TOKEN_ALG); ES256 when left out. */
  accessTokenAlg?: SigningAlg
}

export interface KeyRingLog {
  warn (obj: object, msg: string): void
}

/**
 * One instance's view of the signing keys. They live in the store, never in local files, so every instance
 * serves the same JWKS. `open()` creates the first key of each algorithm (RS256, ES256) when there is none; `rotate()`
 * (CLI or admin API, on any instance) adds one of each, which every instance publishes at its next `reload()` and signs with from its
 * `activatesAt` (lib/keys/key-timing.ts has every timing rule, lib/keys/signing-keys.ts the lifecycle). A
 * reload also renews this instance's heartbeat (its publish delay counts for rotations) and does the
 * housekeeping any instance may do: deleting retired keys' private parts, then keys past the retain window.
 * A failed reload changes nothing (retired keys stay published); an instance whose last good read is older
 * than the trust window (`trustedFor`) stops signing (`confirm`). The caller runs the reload timer.
 */
export class KeyRing {
  readonly #store: KeyStore
  readonly #clock: Clock
  readonly #config: KeyRingSettings
  readonly #log: KeyRingLog
  readonly #instance = randomUUID()
  readonly #retain: number
  readonly #listeners: Array<(keys: KeySet) => void> = []
  /** Keys parsed once (a private key's PEM is costly to read), by kid. */
  readonly #loaded = new Map<string, LoadedKey>()
  #published: LoadedKey[] = []
  /** Until when (seconds) the keys read last can be trusted to sign. */
  #trustedUntil = -Infinity
  #reloading: Promise<void> | undefined

  /** The JWKS `Cache-Control` max-age, in seconds (lib/keys/key-timing.ts `jwksMaxAge`). */
  readonly jwksMaxAge: number

  readonly #material: InitialKeyMaterial | undefined

  /** `initialKeyMaterial`: test-only (AppOptions.initialKeyMaterial). */
  constructor (deps: { storage: { keys: KeyStore }, clock: Clock, config: KeyRingSettings, log: KeyRingLog, initialKeyMaterial?: InitialKeyMaterial }) {
    this.#material = deps.initialKeyMaterial
    this.#store = deps.storage.keys
    this.#clock = deps.clock
    this.#config = deps.config
    this.#log = deps.log
    this.#retain = retainSeconds(deps.config)
    this.jwksMaxAge = jwksMaxAge(deps.config)
  }

  /** Makes sure the store holds a key of each algorithm (instances starting at once end with exactly one of each), then reads the keys. */
  async open (): Promise<void> {
    await ensureSigningKey(this.#store, this.#clock.now(), this.#material)
    await this.reload()
  }

  /** The published keys, and the one that signs now. */
  current (): KeySet {
    return this.#keySet(this.#clock.now())
  }

  /** The JWKS document: public members only. */
  jwks (): { keys: PublicJwk[] } {
    return { keys: this.#published.map((k) => k.publicJwk) }
  }

  /** Re-reads the keys from the store (the caller does it every KEYS_REFRESH_SECONDS); concurrent callers share one read. */
  reload (): Promise<void> {
    this.#reloading ??= this.#read().finally(() => { this.#reloading = undefined })
    return this.#reloading
  }

  /**
   * Resolves (at once, in the common case: undefined) when the keys read last can be trusted to sign at `at`;
   * reloads them first when they are too old for that, and rejects with StoreUnavailableError when that fails.
   */
  confirm (at: number): Promise<void> | undefined {
    if (at < this.#trustedUntil) return undefined
    return this.reload().catch((err: unknown) => {
      this.#log.warn({ err }, 'signing keys could not be confirmed: not signing')
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err)
    })
  }

  /**
   * Adds a new key of each algorithm; they sign once every instance has had time to publish them (the agreed
   * publish delay). `kid` and `activatesAt` are the access tokens' new key's (ACCESS_TOKEN_ALG), `keys` all of them.
   */
  async rotate (): Promise<Rotation> {
    await this.reload() // renews this instance's heartbeat, so its own delay is among those agreed on
    const added = await rotateSigningKey(this.#store, this.#clock, this.#config.keyPublishDelaySeconds)
    await this.reload()
    return rotationOf(added, this.#accessTokenAlg)
  }

  get #accessTokenAlg (): SigningAlg {
    return this.#config.accessTokenAlg ?? DEFAULT_ACCESS_TOKEN_ALG
  }

  /** Calls `listener` with the keys now, and again whenever the published set changes. */
  onChange (listener: (keys: KeySet) => void): void {
    this.#listeners.push(listener)
    listener(this.current())
  }

  /** This instance stops: its heartbeat goes, so its publish delay no longer counts for rotations. */
  async close (): Promise<void> {
    await this.#store.leave(this.#instance).catch(() => {})
  }

  #keySet (now: number): KeySet {
    const found = signingKeysAt(this.#published, now)
    if ('missing' in found) throw new Error(`no ${found.missing} signing key in the store can sign now`)
    return { active: found.signing[this.#accessTokenAlg], published: this.#published }
  }

  #load (k: SigningKey): LoadedKey {
    let key = this.#loaded.get(k.kid)
    // A key whose private part the store has deleted (it retired) keeps only its public part here too.
    if (key && key.privateKey && k.privateKey === null) key = { ...key, privateKey: undefined }
    if (!key) key = loadKey(k)
    this.#loaded.set(k.kid, key)
    return key
  }

  async #read (): Promise<void> {
    const now = this.#clock.now()
    const [stored] = await Promise.all([
      this.#store.list(),
      this.#store.heartbeat(this.#instance, this.#config.keyPublishDelaySeconds, now, now - INSTANCE_STALE_SECONDS)
    ])
    const life = keyLifecycle(stored, now, this.#retain)
    // A retired key's private part is deleted from the store below: forget it here too.
    const retired = new Set(life.retiredPrivate.map((k) => k.kid))
    const next = life.published.map((k) => this.#load(retired.has(k.kid) ? { ...k, privateKey: null } : k))
    const found = signingKeysAt(next, now)
    if ('missing' in found) throw new Error(`no ${found.missing} signing key in the store can sign now`)
    for (const kid of this.#loaded.keys()) if (!next.some((k) => k.kid === kid)) this.#loaded.delete(kid)
    const changed = this.#published.length !== next.length || this.#published.some((k, i) => k !== next[i])
    this.#published = next
    this.#trustedUntil = now + trustedFor(this.#config)
    if (changed) for (const listener of this.#listeners) listener(this.#keySet(now))
    // Housekeeping any instance may do (deleting twice is harmless); if it fails, the next reload retries.
    if (life.dropped.length > 0 || life.retiredPrivate.length > 0) {
      try {
        await this.#store.deletePrivateKeys(life.retiredPrivate.map((k) => k.kid))
        await this.#store.delete(life.dropped.map((k) => k.kid))
      } catch (err) {
        this.#log.warn({ err }, 'deleting retired signing keys failed; retrying at the next reload')
      }
    }
  }
}

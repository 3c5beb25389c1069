import { retainSeconds } from '../keys/key-timing.js'
import { keyStates, type KeyState, type Rotation } from '../keys/signing-keys.js'
import type { EventLog, SecurityEvents } from '../ops/events.js'
import type { KeyStore } from '../stores/types.js'

/** A key rotation as `gatehouse keys rotate` prints it and POST /admin/keys/rotate answers it (schemas/admin.ts KeyRotation). */
export function rotationView (rotation: Rotation) {
  return {
    kid: rotation.kid,
    activates_at: rotation.activatesAt,
    keys: rotation.keys.map((k) => ({ kid: k.kid, alg: k.alg, activates_at: k.activatesAt }))
  }
}

/** What a running server's key ring offers a rotation (lib/keys/key-ring.ts KeyRing). */
export interface KeyRotator { rotate (): Promise<Rotation> }

/**
 * Rotates the signing keys through this server's key ring (POST /admin/keys/rotate and the console's "Rotate keys"):
 * one new key of each algorithm, signing after the agreed publish delay; then the key_rotated event. The CLI, with no
 * server, rotates in the store itself (cli/keys.ts).
 */
export async function rotateKeys (deps: { signingKeys: KeyRotator, events: SecurityEvents, log?: EventLog }): Promise<Rotation> {
  const rotation = await deps.signingKeys.rotate()
  deps.events.emit({ type: 'key_rotated', kid: rotation.kid, activatesAt: rotation.activatesAt }, deps.log)
  return rotation
}

/** A stored key as administrators see it (GET /admin/keys, `gatehouse keys list`, the console): never its private part. */
export interface KeyView {
  kid: string
  alg: string
  state: KeyState
  created_at: number
  activates_at: number
  /** When a later key of its algorithm takes over; null while there is none. */
  retires_at: number | null
  /** Until when the JWKS publishes it (a retired key): null while it has not retired. */
  published_until: number | null
}

/**
 * Every key in the store with its state at `now` (lib/keys/signing-keys.ts keyStates), in rotation order. Read from
 * the store, not a server's copy: a rotation made elsewhere (the CLI, another instance) shows at once.
 */
export async function listKeys (deps: { keys: KeyStore, now: number, config: { accessTokenTtl: number } }): Promise<KeyView[]> {
  const states = keyStates(await deps.keys.list(), deps.now, retainSeconds(deps.config))
  return states.map(({ key, state, retiresAt, publishedUntil }) => ({
    kid: key.kid,
    alg: key.alg,
    state,
    created_at: key.createdAt,
    activates_at: key.activatesAt,
    retires_at: retiresAt,
    published_until: publishedUntil
  }))
}

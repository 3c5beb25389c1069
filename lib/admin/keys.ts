import type { Rotation } from '../keys/signing-keys.js'

/** A key rotation as `gatehouse keys rotate` prints it and POST /admin/keys/rotate answers it (schemas/admin.ts KeyRotation). */
export function rotationView (rotation: Rotation) {
  return {
    kid: rotation.kid,
    activates_at: rotation.activatesAt,
    keys: rotation.keys.map((k) => ({ kid: k.kid, alg: k.alg, activates_at: k.activatesAt }))
  }
}

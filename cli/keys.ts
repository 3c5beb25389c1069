import { listKeys, rotationView } from '../lib/admin/keys.js'
import { ensureSigningKey, rotateSigningKey, rotationOf } from '../lib/keys/signing-keys.js'
import { command, type CommandGroup } from './command.js'

/** `gatehouse keys …`: the signing keys (their timing rules: lib/keys/key-timing.ts). */
export const keys: CommandGroup = {
  name: 'keys',
  summary: 'signing keys',
  commands: [
    command({
      name: 'list',
      operations: ['listSigningKeys'],
      summary: 'every signing key in the store, oldest first, with its state (as GET /admin/keys): prints [{"kid", "alg", "state", "created_at", "activates_at", "retires_at", "published_until"}]',
      usage: [''],
      details: ['`state`: `next` (published, not signing yet), `signing`, `retired` (still published until `published_until`, so the tokens it signed verify) ' +
        'or `dropped` (out of the JWKS; a running server deletes it at its next key reload). Never a private key.'],
      positionals: false,
      flags: {},
      async run (_input, { clock, config, storage }) {
        return listKeys({ keys: (await storage()).keys, now: clock.now(), config })
      }
    }),
    command({
      name: 'rotate',
      operations: ['rotateSigningKey'],
      summary: 'add a signing key of each algorithm (RS256, ES256): published at once, signing after the agreed publish delay (KEY_PUBLISH_DELAY_SECONDS); ' +
        'prints {"kid", "activates_at"} (the access tokens\' new key, ACCESS_TOKEN_ALG) and "keys": [{"kid", "alg", "activates_at"}]',
      usage: [''],
      details: ['Running servers pick it up without a restart; the old key keeps verifying until every token it signed has expired.'],
      positionals: false,
      flags: {},
      async run (_input, { clock, config, storage }) {
        const store = await storage()
        await ensureSigningKey(store.keys, clock.now())
        const added = await rotateSigningKey(store.keys, clock, config.keyPublishDelaySeconds)
        return rotationView(rotationOf(added, config.accessTokenAlg))
      }
    })
  ]
}

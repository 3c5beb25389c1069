import { ensureSigningKey, rotateSigningKey } from '../lib/keys/signing-keys.js'
import { command, type CommandGroup } from './command.js'

/** `gatehouse keys …`: the signing keys (their timing rules: lib/keys/key-timing.ts). */
export const keys: CommandGroup = {
  name: 'keys',
  summary: 'signing keys',
  commands: [
    command({
      name: 'rotate',
      summary: 'add a signing key: published at once, signing after the agreed publish delay (KEY_PUBLISH_DELAY_SECONDS); prints {"kid", "activates_at"}',
      usage: [''],
      details: ['Running servers pick it up without a restart; the old key keeps verifying until every token it signed has expired.'],
      positionals: false,
      flags: {},
      async run (_input, { clock, config, storage }) {
        const store = await storage()
        await ensureSigningKey(store.keys, clock.now())
        const key = await rotateSigningKey(store.keys, clock, config.keyPublishDelaySeconds)
        return { kid: key.kid, activates_at: key.activatesAt }
      }
    })
  ]
}

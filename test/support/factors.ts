import type { FastifyInstance } from 'fastify'
import { randomUUID } from 'node:crypto'
import { NO_PASSKEY, replaceRecoveryCodes } from '../../lib/mfa/enrolment.js'
import { totpSecretContext } from '../../lib/mfa/second-factor.js'
import { newTotpSecret, totpCode, totpStep } from '../../lib/mfa/totp.js'
import type { User } from '../../lib/stores/types.js'

/**
 * A confirmed authenticator app for `user`, written through the store with the app's secret box (as the account
 * page's enrolment leaves it; that page has its own tests), and ten recovery codes. Returns the secret (base32) and
 * the codes as shown.
 */
export async function addTotp (app: FastifyInstance, user: User, options: { recoveryCodes?: boolean } = {}): Promise<{ secret: string, factorId: string, recoveryCodes: string[] }> {
  if (!app.secrets) throw new Error('no SECRETS_KEY in this app')
  const secret = newTotpSecret()
  const id = randomUUID()
  const now = app.clock.now()
  await app.storage.factors.create({
    id,
    userId: user.id,
    kind: 'totp',
    name: 'Phone',
    secret: app.secrets.seal(secret, totpSecretContext({ userId: user.id, id })),
    ...NO_PASSKEY,
    createdAt: now,
    confirmedAt: now
  }, 5)
  const recoveryCodes = options.recoveryCodes === false ? [] : await replaceRecoveryCodes(app.storage, user, now)
  return { secret, factorId: id, recoveryCodes }
}

/** The app's code at the app's clock, `offset` steps away. */
export const codeNow = (app: FastifyInstance, secret: string, offset = 0): string => totpCode(secret, totpStep(app.clock.now()) + offset)

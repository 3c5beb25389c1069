import { randomInt } from 'node:crypto'
import { digest } from '../credentials/digest.js'

/**
 * Recovery codes: what a user who lost their authenticator app signs in with instead. Ten, shown once when made,
 * stored only as SHA-256 digests (UserFactorStore.replaceRecoveryCodes: a new set replaces the old), each good once.
 * Ten characters from an alphabet without look-alikes (no 0/o, 1/l/i) in two groups of five: ~49 bits each, far
 * beyond what the brute-force limit lets anyone try, and easy to copy from paper. Typed input is forgiven case,
 * spaces and dashes.
 */
export const RECOVERY_CODE_COUNT = 10
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
const GROUP = 5
const LENGTH = 10

function oneCode (): string {
  let code = ''
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)]
  return `${code.slice(0, GROUP)}-${code.slice(GROUP)}`
}

/** A new set of codes as shown to the user (distinct). */
export function newRecoveryCodes (): string[] {
  const codes = new Set<string>()
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(oneCode())
  return [...codes]
}

/** A code as typed, normalised (lower case, no spaces or dashes); undefined when it cannot be one of ours. */
export function recoveryCodeInput (input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '').toLowerCase()
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined
}

/** What the store keeps of a code (shown or typed): the digest of its normalised form; undefined for no code of ours. */
export function recoveryCodeDigest (input: string): string | undefined {
  const code = recoveryCodeInput(input)
  return code === undefined ? undefined : digest(`gatehouse/recovery-code/${code}`)
}

import type { Config } from '../lib/config.js'
import type { Clock } from '../lib/clock.js'
import type { Storage } from '../lib/stores/types.js'

/**
 * The shape of the CLI's one command table (cli/commands.ts): each command group's file (cli/users.ts,
 * cli/clients.ts …) exports a `CommandGroup`, and `--help`, `gatehouse` with no arguments and docs/cli.md
 * (scripts/docs.mjs) are all produced from it, so a command's text cannot drift from its flags.
 */

/** A flag: its parseArgs type, the placeholder of its value in help text, and what it does. */
export interface Flag {
  readonly type: 'string' | 'boolean'
  /** Given more than once, every value is kept (`--redirect-uri A --redirect-uri B`). */
  readonly multiple?: boolean
  /** The placeholder shown after a string flag: `--scope "a b"`, `--issuer URL`. */
  readonly value?: string
  readonly description: string
}

export type Flags = Readonly<Record<string, Flag>>

/** What parseArgs gives a command for its flags: booleans, strings, or string lists for `multiple` flags. */
export type FlagValues<F extends Flags> = {
  [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : F[K]['multiple'] extends true ? string[] : string
}

export interface Input<F extends Flags> {
  values: FlagValues<F>
  positionals: string[]
}

/** What a command may use. The store is opened on first use (and closed by cli/index.ts after the command). */
export interface Context {
  config: Config
  clock: Clock
  storage (): Promise<Storage>
  /** The command table (cli/commands.ts), for the commands that describe the CLI itself (completion). */
  groups: readonly CommandGroup[]
}

export interface Command<F extends Flags = Flags> {
  /** `add` in `gatehouse users add`; undefined when the group itself is the command (`gatehouse openapi`). */
  readonly name: string | undefined
  /** One line: what it does and what it prints. */
  readonly summary: string
  /** Each accepted form of the arguments after `gatehouse GROUP NAME`; most commands have one. */
  readonly usage: readonly string[]
  /** Further paragraphs for `--help` and docs/cli.md, when one line is not enough (each wrapped as one). */
  readonly details?: readonly string[]
  /** Whether the command takes positional arguments (USERNAME, FILE …); otherwise one is a usage error. */
  readonly positionals: boolean
  readonly flags: F
  /**
   * The admin API operations (operationId in openapi.yaml) this command performs: the CLI's half of the table
   * that test/cli/coverage.test.ts checks against every admin operation, and that docs/cli.md prints.
   */
  readonly operations?: readonly string[]
  run (input: Input<F>, context: Context): Promise<unknown>
}

export interface CommandGroup {
  /** `users` in `gatehouse users add`. */
  readonly name: string
  /** One line: what the group manages. */
  readonly summary: string
  readonly commands: readonly Command[]
}

/** Declares a command with its flags typed for its handler. */
export function command<const F extends Flags> (spec: Command<F>): Command {
  return spec as unknown as Command
}

/**
 * What parseArgs is given for a command: exactly its declared flags, nothing else (strict), so every flag it
 * accepts is one that `--help` and docs/cli.md list (test/cli/commands.test.ts checks the help against this).
 */
export function parserOptions (command: Command): Record<string, { type: 'string' | 'boolean', multiple: boolean }> {
  return Object.fromEntries(Object.entries(command.flags).map(([name, f]) => [name, { type: f.type, multiple: f.multiple ?? false }]))
}

/** A mistake in the command line itself: reported with a pointer to `gatehouse --help`. */
export class UsageError extends Error {}

/** What a command returns when it wrote its output itself (users export streams JSON Lines). */
export const STREAMED = Symbol('streamed')

/** The one positional argument a command takes (`what` names it in the error). */
export function one (positionals: string[], what: string): string {
  const [only] = positionals
  if (only === undefined || positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`)
  return only
}

/** A whole number option within bounds, or its default. */
export function count (value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${name}: a whole number from ${min} to ${max}`)
  return Number(value)
}

/** `a,b` (or the flag given several times) as a list of the non-empty, trimmed names. */
export function commaList (values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}

/**
 * A secret piped in on standard input (never from argv, where `ps` and shell history would keep it). One
 * trailing newline is stripped (as `echo` adds one); anything else is part of the secret.
 */
export async function readStdin (option: string, example: string): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError(`${option}: pipe the ${option === '--password-stdin' ? 'password' : 'secret'} in, e.g. ${example}`)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

import { clients } from './clients.js'
import { completion } from './completion.js'
import { init } from './init.js'
import type { Command, CommandGroup } from './command.js'
import { events } from './events.js'
import { keys } from './keys.js'
import { openapi } from './openapi.js'
import { providers } from './providers.js'
import { resources } from './resources.js'
import { serve } from './serve.js'
import { registrationTokens } from './registration-tokens.js'
import { users } from './users.js'

/**
 * Every command of `gatehouse`, by group, in the order help text and docs/cli.md list them: the one table
 * that dispatch (cli/index.ts), `--help` (cli/help.ts) and the reference (scripts/docs.mjs) all read.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [init, serve, users, clients, registrationTokens, providers, resources, keys, events, openapi, completion]

export function findGroup (name: string): CommandGroup | undefined {
  return COMMAND_GROUPS.find((g) => g.name === name)
}

/** The group's command named `name`; a group that is itself a command (openapi) answers to no name. */
export function findCommand (group: CommandGroup, name: string | undefined): Command | undefined {
  return group.commands.find((c) => c.name === name)
}

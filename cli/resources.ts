import { addResource, removeResource, toResourceView } from '../lib/admin/resources.js'
import { command, one, type CommandGroup } from './command.js'

/** `gatehouse resources …`: the APIs and MCP servers access tokens may be issued for (RFC 8707; lib/admin/resources.ts). */
export const resources: CommandGroup = {
  name: 'resources',
  summary: 'RFC 8707 resources (APIs, MCP servers) that tokens may be issued for',
  commands: [
    command({
      name: 'add',
      operations: ['createResource'],
      summary: 'register a resource and print it: clients may then ask for tokens with `resource=URI` (their `aud`)',
      usage: ['URI [--scope "a b"] [--name TEXT]'],
      details: [
        'URI: absolute, no fragment, https (http only on localhost, 127.0.0.1 or [::1]); it is the tokens\' aud, byte for byte.',
        'A token for it carries only the scopes it defines (never an OpenID Connect one).'
      ],
      positionals: true,
      flags: {
        scope: { type: 'string', value: '"a b"', description: 'the scopes the resource defines, space-separated (none: its tokens carry no scope)' },
        name: { type: 'string', value: 'TEXT', description: 'what the consent page calls it (default: the URI)' }
      },
      async run ({ values, positionals }, { config, storage }) {
        const uri = one(positionals, 'URI')
        return toResourceView(await addResource({ storage: await storage(), audience: config.audience }, { uri, scope: values.scope, name: values.name }))
      }
    }),
    command({
      name: 'list',
      operations: ['listResources'],
      summary: 'the resources as a JSON array',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { storage }) {
        return (await (await storage()).resources.list({ limit: 1_000_000, offset: 0 })).map(toResourceView)
      }
    }),
    command({
      name: 'remove',
      operations: ['deleteResource'],
      summary: 'delete a resource and print it: its tokens stop being active at introspection, and no grant may name it again',
      usage: ['URI'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return toResourceView(await removeResource(await storage(), one(positionals, 'URI')))
      }
    })
  ]
}

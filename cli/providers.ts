import { createProvider, deleteProvider, getProvider, listIdentities, listProviders, unlinkIdentity, updateProvider, type ProviderEndpoints, type ProviderPatchInput } from '../lib/admin/providers.js'
import type { Config } from '../lib/config.js'
import { UpstreamClients } from '../lib/upstream/client.js'
import { command, one, readStdin, UsageError, type CommandGroup, type FlagValues } from './command.js'

/** Flags `providers add` and `providers update` share. */
const PROVIDER_FLAGS = {
  issuer: { type: 'string', value: 'URL', description: 'the provider\'s issuer; an OpenID provider\'s endpoints come from its discovery document. https, or http for loopback hosts only' },
  'client-id': { type: 'string', value: 'ID', description: 'the client ID Gatehouse was given at the provider' },
  'client-secret-stdin': { type: 'boolean', description: 'read the client secret from standard input (required by add); it is stored, and never shown again' },
  scope: { type: 'string', value: '"openid email profile"', description: 'the scopes asked of the provider (default "openid email profile"; an OpenID provider needs openid)' },
  'display-name': { type: 'string', value: 'TEXT', description: 'the name on the login page\'s "Continue with …" link' },
  'link-by-email': { type: 'boolean', description: 'a first sign-in whose e-mail the provider marks verified signs in as the one local user with that e-mail' },
  'no-link-by-email': { type: 'boolean', description: 'turn --link-by-email off' },
  'link-linked-accounts': { type: 'boolean', description: 'with --link-by-email, also link into a local user already linked to another provider account (off by default: such a user is never reached by e-mail)' },
  'no-link-linked-accounts': { type: 'boolean', description: 'turn --link-linked-accounts off' },
  'create-users': { type: 'boolean', description: 'a first sign-in of an unknown account creates a local user (the default)' },
  'no-create-users': { type: 'boolean', description: 'a first sign-in of an unknown account is refused (access_denied) instead of creating a user' },
  'authorization-endpoint': { type: 'string', value: 'URL', description: 'plain OAuth 2.0 (no discovery, no ID token; e.g. GitHub): the provider\'s authorization endpoint' },
  'token-endpoint': { type: 'string', value: 'URL', description: 'plain OAuth 2.0: the provider\'s token endpoint' },
  'userinfo-endpoint': { type: 'string', value: 'URL', description: 'plain OAuth 2.0: the endpoint whose JSON describes the account' },
  'subject-claim': { type: 'string', value: 'C', description: 'the field that identifies the account (default sub; may be a number)' },
  'email-claim': { type: 'string', value: 'C', description: 'the field holding the e-mail address (default email)' },
  'email-verified-claim': { type: 'string', value: 'C', description: 'the field saying the e-mail is verified (OpenID default email_verified; a plain OAuth 2.0 provider\'s e-mail is never treated as verified without it)' },
  'name-claim': { type: 'string', value: 'C', description: 'the field holding the full name (default name)' },
  'username-claim': { type: 'string', value: 'C', description: 'the field proposing a username for a new user (default preferred_username)' },
  check: { type: 'boolean', description: 'read the provider\'s discovery document now (within UPSTREAM_TIMEOUT_MS), before anything is stored: if that fails, nothing is stored and the CLI says why; update: only when the issuer or an endpoint changes. A plain OAuth 2.0 provider has none' }
} as const

/** What `--check` calls: a fresh discovery, as a sign-in would do it (lib/upstream/client.ts UpstreamClients.check). */
function discover (config: Config) {
  const upstream = new UpstreamClients({ issuer: config.issuer, timeoutMs: config.upstreamTimeoutMs, nowMs: () => Date.now() })
  return (provider: ProviderEndpoints) => upstream.check(provider)
}

type ProviderValues = FlagValues<typeof PROVIDER_FLAGS>

/** A yes/no pair of flags: true, false, or undefined when neither was given. */
function flag (values: ProviderValues, yes: 'link-by-email' | 'link-linked-accounts' | 'create-users', no: 'no-link-by-email' | 'no-link-linked-accounts' | 'no-create-users'): boolean | undefined {
  if (values[yes] && values[no]) throw new UsageError(`--${yes} and --${no} together`)
  return values[yes] ? true : values[no] ? false : undefined
}

async function providerInput (values: ProviderValues, secretRequired: boolean): Promise<ProviderPatchInput> {
  if (secretRequired && !values['client-secret-stdin']) throw new UsageError('providers add needs --client-secret-stdin (secrets are never taken from the command line)')
  const claims = {
    subject: values['subject-claim'],
    email: values['email-claim'],
    emailVerified: values['email-verified-claim'],
    name: values['name-claim'],
    username: values['username-claim']
  }
  return {
    issuer: values.issuer,
    clientId: values['client-id'],
    clientSecret: values['client-secret-stdin']
      ? await readStdin('--client-secret-stdin', 'printf %s "$SECRET" | gatehouse providers add NAME ... --client-secret-stdin')
      : undefined,
    scope: values.scope,
    displayName: values['display-name'],
    linkByEmail: flag(values, 'link-by-email', 'no-link-by-email'),
    linkLinkedAccounts: flag(values, 'link-linked-accounts', 'no-link-linked-accounts'),
    createUsers: flag(values, 'create-users', 'no-create-users'),
    authorizationEndpoint: values['authorization-endpoint'],
    tokenEndpoint: values['token-endpoint'],
    userinfoEndpoint: values['userinfo-endpoint'],
    claims: Object.values(claims).some((c) => c !== undefined) ? claims : undefined,
    checkDiscovery: values.check ? true : undefined
  }
}

/** `gatehouse providers …`: upstream identity providers users may sign in with (lib/admin/providers.ts). */
export const providers: CommandGroup = {
  name: 'providers',
  summary: 'upstream identity providers users may sign in with (OpenID Connect, or plain OAuth 2.0)',
  commands: [
    command({
      name: 'add',
      operations: ['createProvider'],
      summary: 'register a provider and print it with its redirect_uri (ISSUER/login/NAME/callback), the URL to register at the provider',
      usage: [
        'NAME --issuer URL --client-id ID --client-secret-stdin [--check] [--scope "openid email profile"] [--display-name TEXT] [--link-by-email [--link-linked-accounts]] [--no-create-users]',
        'NAME --issuer URL --client-id ID --client-secret-stdin --authorization-endpoint URL --token-endpoint URL --userinfo-endpoint URL ' +
          '[--subject-claim C] [--email-claim C] [--email-verified-claim C] [--name-claim C] [--username-claim C]'
      ],
      details: [
        'The first form registers an OpenID provider (endpoints from its discovery document); the second a plain OAuth 2.0 one ' +
          '(GitHub and the like), whose account is read through the claim mapping. NAME: [a-z0-9][a-z0-9_-]{0,31}. See docs/providers.md.',
        'With --check the discovery document is read first: on failure nothing is stored and the CLI exits 1 with "discovery failed: …"; ' +
          'on success the output has "discovery", what the document gave. Without it the document is first read at the first sign-in.'
      ],
      positionals: true,
      flags: PROVIDER_FLAGS,
      async run ({ values, positionals }, { config, storage }) {
        const name = one(positionals, 'NAME')
        if (values.issuer === undefined) throw new UsageError('providers add needs --issuer URL')
        if (values['client-id'] === undefined) throw new UsageError('providers add needs --client-id ID')
        const store = await storage()
        const input = await providerInput(values, true)
        return createProvider({ storage: store, config, discover: discover(config) }, { ...input, name, issuer: values.issuer, clientId: values['client-id'], clientSecret: input.clientSecret ?? '' })
      }
    }),
    command({
      name: 'get',
      operations: ['getProvider'],
      summary: 'one provider as GET /admin/providers/{name} shows it, with its redirect_uri (never its client secret)',
      usage: ['NAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { config, storage }) {
        return getProvider({ storage: await storage(), config }, one(positionals, 'NAME'))
      }
    }),
    command({
      name: 'update',
      operations: ['updateProvider'],
      summary: 'change a provider and print it: each option given replaces what is stored, the others stay',
      usage: ['NAME [the options of add] [--client-secret-stdin] [--create-users] [--no-link-by-email] [--check]'],
      positionals: true,
      flags: PROVIDER_FLAGS,
      async run ({ values, positionals }, { config, storage }) {
        const name = one(positionals, 'NAME')
        const store = await storage()
        return updateProvider({ storage: store, config, discover: discover(config) }, name, await providerInput(values, false))
      }
    }),
    command({
      name: 'list',
      operations: ['listProviders'],
      summary: 'the providers as a JSON array (never a secret)',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { config, storage }) {
        return listProviders({ storage: await storage(), config })
      }
    }),
    command({
      name: 'remove',
      operations: ['deleteProvider'],
      summary: 'remove a provider: its link on the login page and its sign-ins stop; accounts linked through it are kept',
      usage: ['NAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { config, storage }) {
        const name = one(positionals, 'NAME')
        return deleteProvider({ storage: await storage(), config }, name)
      }
    }),
    command({
      name: 'identities',
      operations: ['listUserIdentities'],
      summary: 'the accounts at providers that sign in as USERNAME',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        const username = one(positionals, 'USERNAME')
        return listIdentities(await storage(), username)
      }
    }),
    command({
      name: 'unlink',
      operations: ['unlinkUserIdentity'],
      summary: 'that provider\'s account no longer signs in as USERNAME (its next sign-in is a first one again); prints {"unlinked": …}',
      usage: ['USERNAME --provider NAME'],
      positionals: true,
      flags: {
        provider: { type: 'string', value: 'NAME', description: 'the provider whose account to unlink (required)' }
      },
      async run ({ values, positionals }, { storage }) {
        if (values.provider === undefined) throw new UsageError('providers unlink needs --provider NAME')
        const username = one(positionals, 'USERNAME')
        return { unlinked: await unlinkIdentity(await storage(), username, values.provider) }
      }
    })
  ]
}

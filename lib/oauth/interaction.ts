import type { Config } from '../config.js'
import { asksForTwoFactors, usedTwoFactors } from '../mfa/assurance.js'
import type { Consent, Session, User } from '../stores/types.js'
import { grantableScopes, type AuthorizationRequest } from './authorize.js'
import { parseScope } from './scopes.js'
import { consentScopes } from './claims.js'
import { withResourceUris } from './resources.js'
import { signInAccepted } from './sign-in-methods.js'

/**
 * What an authorization request needs next in this browser, decided the way node-oidc-provider's interaction
 * policy decides it (lib/helpers/interaction_policy): an ordered list of prompts (the pages: login, a second
 * factor, consent),
 * each with an ordered list of named checks. The first check that fails names the page to show and why; under
 * `prompt=none` (OIDC Core §3.1.2.1) it becomes that prompt's error instead (§3.1.2.6). No check failing: a
 * code. A new reason to show a page is a new check; a new page (a second factor, account selection, MFA
 * enrolment, an `acr_values` step-up) is a new prompt here and a renderer in routes/browser/authorize.ts.
 *
 * Pure: no I/O and no clock. The caller reads the session and the consent, and issues the code
 * (lib/oauth/authorization-flow.ts).
 */

/** Who is signed in in this browser, and since when (`session.authTime`, OIDC `auth_time`). */
export interface SignedIn { session: Session, user: User }

/** What a form posted in this very request already did: the login form answers prompt=login, the consent form consent. */
export interface Fresh { login?: boolean, consent?: boolean }

export interface InteractionInput {
  authz: AuthorizationRequest
  signedIn: SignedIn | undefined
  /** This user's consent to this client, when someone is signed in (the caller reads it). */
  consent: Consent | undefined
  /** Seconds, from the caller's clock. */
  now: number
  fresh?: Fresh
  /** The server's MFA setting (config.mfa): `required` asks every browser sign-in for a second factor. */
  mfa: Config['mfa']
  /**
   * How many confirmed second factors the signed-in user has (storage.factors.countConfirmed, read by the caller);
   * 0 when nobody is signed in. More than 0 is what "the user has a second factor" means.
   */
  factors: number
}

/** What the checks read: the input, and once someone is signed in, the scopes this request would grant them. */
export interface InteractionContext extends Required<InteractionInput> {
  grant: { scopes: string[], refused: string[] } | undefined
}

export type PromptName = 'login' | 'mfa' | 'consent'
export type PromptError = 'login_required' | 'interaction_required' | 'consent_required'
export type RefusalError = PromptError | 'invalid_scope'

export interface Check {
  /** The reason, as logged and as the step names it (`max_age`). */
  readonly name: string
  readonly description: string
  /** True when this check fails: its prompt is needed (or, with `refusal`, the request is refused). */
  readonly fails: (ctx: InteractionContext) => boolean
  /** A failure no page can fix: back to the client with this error, whatever `prompt` says. */
  readonly refusal?: (ctx: InteractionContext) => { error: RefusalError, description: string }
  /** Its own answer under prompt=none, when its prompt's (`Prompt.whenNone`) would not say why. */
  readonly whenNone?: { error: PromptError, description: string }
}

export interface Prompt {
  readonly name: PromptName
  /** The answer under prompt=none when one of its checks fails (OIDC Core §3.1.2.6). */
  readonly whenNone: { error: PromptError, description: string }
  readonly checks: readonly Check[]
}

export type Policy = readonly Prompt[]

export type Step =
  | { kind: PromptName, reason: string, scopes: string[] | undefined }
  | { kind: 'code', scopes: string[] }
  | { kind: 'refused', error: RefusalError, reason: string, description: string }

/** The consent checks apply unless the client skips consent or the consent form was just posted. */
/** A pushed request's sign-in happened after /authorize first presented it (auth_time at or after its start). */
const signedInSincePushed = (ctx: InteractionContext): boolean =>
  ctx.authz.pushed !== undefined && ctx.signedIn !== undefined && ctx.signedIn.session.authTime >= ctx.authz.pushed.startedAt
const asksConsent = (ctx: InteractionContext): boolean => !ctx.authz.client.skipConsent && ctx.fresh.consent !== true

export const loginPrompt: Prompt = {
  name: 'login',
  whenNone: { error: 'login_required', description: 'the user is not signed in' },
  checks: [
    {
      name: 'no_session',
      description: 'nobody is signed in in this browser',
      fails: (ctx) => ctx.signedIn === undefined
    },
    {
      // A client restricted to some providers accepts a session only when it came through one of them: a password
      // sign-in, the bare /login or another provider asks for an allowed sign-in (the login page offers only those).
      name: 'sign_in_method',
      description: 'the session was not signed in by a way this client accepts (its providers)',
      fails: (ctx) => ctx.signedIn !== undefined && !signInAccepted(ctx.authz.client, ctx.signedIn.session.provider)
    },
    {
      name: 'prompt_login',
      description: 'the client asked for a new sign-in (prompt=login)',
      // A pushed request (RFC 9126) comes back from the pages with its prompt=login unchanged (its parameters are the
      // stored ones): a sign-in since /authorize first presented it is the new sign-in it asked for.
      fails: (ctx) => ctx.fresh.login !== true && ctx.authz.prompt.has('login') && !signedInSincePushed(ctx)
    },
    {
      name: 'max_age',
      description: 'the user signed in longer ago than the client\'s max_age allows',
      fails: (ctx) => ctx.authz.maxAge !== undefined && ctx.signedIn !== undefined && ctx.now - ctx.signedIn.session.authTime > ctx.authz.maxAge
    },
    {
      // OIDC Core §3.1.2.1: the hint names the user the client expects. Someone else signed in: sign in again (under
      // prompt=none, login_required). Whoever signs in on that page is the answer: the hint is a hint, not a lock.
      name: 'id_token_hint',
      description: 'the signed-in user is not the one the client\'s id_token_hint names',
      fails: (ctx) => ctx.authz.idTokenHint !== undefined && ctx.signedIn !== undefined && ctx.fresh.login !== true && ctx.signedIn.user.id !== ctx.authz.idTokenHint.sub,
      whenNone: { error: 'login_required', description: 'the signed-in user is not the one id_token_hint names' }
    }
  ]
}

/**
 * The second factor (docs/second-factors.md "Requiring a second factor"). Each check names one reason to want
 * two factors, and fails only while the session's `amr` does not show two (lib/mfa/assurance.ts usedTwoFactors):
 * a session that used two passes them all. Its page (routes/browser/authorize.ts) is the step-up when the user has
 * a factor, the enrolment when not. Under prompt=none: interaction_required (OIDC Core §3.1.2.6), since a page is
 * needed that is neither a sign-in nor a consent.
 */
const onePassFactor = (ctx: InteractionContext): boolean => ctx.signedIn !== undefined && !usedTwoFactors(ctx.signedIn.session.amr)

export const mfaPrompt: Prompt = {
  name: 'mfa',
  whenNone: { error: 'interaction_required', description: 'a second factor is required' },
  checks: [
    {
      name: 'mfa_required_setting',
      description: 'the server requires a second factor of every browser sign-in (MFA=required)',
      fails: (ctx) => ctx.mfa === 'required' && onePassFactor(ctx)
    },
    {
      name: 'client_requires_mfa',
      description: 'the client was added with --require-mfa',
      fails: (ctx) => ctx.authz.client.requireMfa && onePassFactor(ctx)
    },
    {
      // OIDC Core §3.1.2.1: a voluntary claim, but honoured: a client that asks for the mfa class gets it or no code.
      name: 'acr_values',
      description: 'the client asked for two factors (acr_values naming urn:gatehouse:acr:mfa, not urn:gatehouse:acr:pwd)',
      fails: (ctx) => asksForTwoFactors(ctx.authz.acrValues) && onePassFactor(ctx)
    },
    {
      // A user who enrolled a factor uses it, whatever the client: an upstream sign-in that reported no second
      // factor included (the provider vouched for one factor only).
      name: 'user_has_factor',
      description: 'the user has a second factor and this session did not use it',
      fails: (ctx) => ctx.factors > 0 && onePassFactor(ctx)
    }
  ]
}

export const consentPrompt: Prompt = {
  name: 'consent',
  whenNone: { error: 'consent_required', description: 'the user has not allowed this client these scopes' },
  checks: [
    {
      // Before any consent: a scope the user does not hold is refused outright, consent or not (no silent narrowing).
      name: 'scope_not_held',
      description: 'the client asked for a scope the user does not hold',
      fails: (ctx) => (ctx.grant?.refused.length ?? 0) > 0,
      refusal: (ctx) => ({ error: 'invalid_scope', description: `scope not allowed: ${(ctx.grant?.refused ?? []).join(' ').slice(0, 200)}` })
    },
    {
      // RFC 7591 §5, RFC 9700 §4.1: a client that registered itself is whoever it says it is; the user decides each
      // time (never skipped, never remembered), and prompt=none gets consent_required.
      name: 'registered_client',
      description: 'the client registered itself (RFC 7591): the user is always asked',
      fails: (ctx) => ctx.authz.client.registration !== null && ctx.fresh.consent !== true
    },
    {
      name: 'no_consent',
      description: 'the user has never allowed this client anything',
      fails: (ctx) => asksConsent(ctx) && ctx.consent === undefined
    },
    {
      name: 'prompt_consent',
      description: 'the client asked to ask again (prompt=consent)',
      fails: (ctx) => asksConsent(ctx) && ctx.authz.prompt.has('consent')
    },
    {
      name: 'scopes_missing',
      description: 'the client asks for scopes (or resources, RFC 8707) the user has not allowed it yet',
      // The claims parameter's claims are consented like their scopes (lib/oauth/claims.ts consentScopes).
      fails: (ctx) => asksConsent(ctx) && !withResourceUris(consentScopes(ctx.grant?.scopes ?? [], ctx.authz.claims), ctx.authz.resources).every((s) => parseScope(ctx.consent?.scope).includes(s))
    }
  ]
}

/** Sign in, a second factor when one is wanted, then consent. */
export const defaultPolicy: Policy = [loginPrompt, mfaPrompt, consentPrompt]

/** The next step for this request in this browser: the first failing check of the first prompt that has one, or a code. */
export function nextStep (input: InteractionInput, policy: Policy = defaultPolicy): Step {
  const ctx: InteractionContext = {
    ...input,
    fresh: input.fresh ?? {},
    grant: input.signedIn === undefined ? undefined : grantableScopes(input.authz, input.signedIn.user.scope)
  }
  for (const prompt of policy) {
    const failed = prompt.checks.find((check) => check.fails(ctx))
    if (failed === undefined) continue
    if (failed.refusal) return { kind: 'refused', reason: failed.name, ...failed.refusal(ctx) }
    if (ctx.authz.prompt.has('none')) return { kind: 'refused', reason: failed.name, ...(failed.whenNone ?? prompt.whenNone) }
    return { kind: prompt.name, reason: failed.name, scopes: ctx.grant?.scopes }
  }
  // Every prompt passed, so someone is signed in (the login prompt's first check) and `grant` is set.
  return { kind: 'code', scopes: ctx.grant?.scopes ?? [] }
}
